"""outbox: a notification per inserting statement, so the relay sleeps until there is work

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30
"""

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

# events.outbox.NOTIFY_CHANNEL, frozen here as of this revision (a test checks they agree).
# FOR EACH STATEMENT: one notification however many rows a statement writes, and
# PostgreSQL folds a transaction's identical notifications into one at commit.
NOTIFY = (
    "CREATE FUNCTION public.outbox_events_notify() RETURNS trigger LANGUAGE plpgsql AS "
    "$$BEGIN PERFORM pg_notify('turumba_outbox', ''); RETURN NULL; END$$",
    "CREATE TRIGGER outbox_events_notify AFTER INSERT ON public.outbox_events "
    "FOR EACH STATEMENT EXECUTE FUNCTION public.outbox_events_notify()",
)


def upgrade() -> None:
    for statement in NOTIFY:
        op.execute(statement)


def downgrade() -> None:
    op.execute("DROP TRIGGER outbox_events_notify ON public.outbox_events")
    op.execute("DROP FUNCTION public.outbox_events_notify()")
