"""The tag names of many contacts at once, for a page of a list (one query, not one per
contact). Tags themselves live in :mod:`helpdesk.tags`, shared with conversations."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from helpdesk.tags import ContactTag, Tag


def tag_names(session: Session, contact_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, list[str]]:
    """``{contact id: its tag names}`` for ``contact_ids``, each list sorted as tags are
    everywhere (by name, ignoring case); a contact without tags maps to ``[]``."""
    names: dict[uuid.UUID, list[str]] = {contact_id: [] for contact_id in contact_ids}
    if not names:
        return names
    rows = session.execute(
        select(ContactTag.contact_id, Tag.name)
        .join(Tag, Tag.id == ContactTag.tag_id)
        .where(ContactTag.contact_id.in_(names))
        .order_by(Tag.key)
    )
    for contact_id, name in rows:
        names[contact_id].append(name)
    return names
