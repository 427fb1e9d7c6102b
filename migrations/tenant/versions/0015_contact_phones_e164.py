"""contacts' phones stored in E.164, as contacts are now saved

Until now a phone was stored as typed, separators stripped; now it is saved in E.164
(``crm.normalise``), and duplicates and lookups compare E.164 values. This rewrites the
stored ones the same way (the account's locale region for national numbers), so they
are found too. A number that cannot be read, or whose E.164 form another contact already
holds, is left as it is: it is refused the next time that contact is saved, and
``GET …/contacts/duplicates`` shows the clash. Not reversible: there is no way back to
what was typed, and nothing needs it.

Revision ID: t0015
Revises: t0014
Create Date: 2026-11-30
"""

import phonenumbers
import sqlalchemy as sa
from alembic import op

revision = "t0015"
down_revision = "t0014"
branch_labels = None
depends_on = None


def _e164(phone: str, region: str | None) -> str | None:
    try:
        number = phonenumbers.parse(phone, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number) or number.extension:
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def upgrade() -> None:
    conn = op.get_bind()
    locale = conn.scalar(sa.text("SELECT locale FROM account_settings WHERE id = 1")) or ""
    region = locale.partition("-")[2].rpartition("-")[2].upper()  # "zh-Hant-TW" → "TW"
    region = region if region in phonenumbers.SUPPORTED_REGIONS else None
    rows = conn.execute(sa.text("SELECT id, phone FROM contacts WHERE phone IS NOT NULL"))
    for contact_id, phone in rows.all():
        e164 = _e164(phone, region)
        if e164 is None or e164 == phone:
            continue
        conn.execute(
            sa.text(
                "UPDATE contacts SET phone = :e164 WHERE id = :id"
                " AND NOT EXISTS (SELECT 1 FROM contacts WHERE phone = :e164)"
            ),
            {"e164": e164, "id": contact_id},
        )


def downgrade() -> None:
    pass
