"""Tags: one account-wide vocabulary shared by conversations and contacts.

Names are unique ignoring case and spacing: each tag stores its normalised ``key``
(whitespace collapsed, case-folded), so "Billing", "billing " and "BILLING" are one tag.
Anybody who may tag a conversation (or contact) may use a new name, which creates the
tag: the vocabulary grows where the work happens. Curating it (colours, renames, merging
duplicates, deleting) is ``tags:manage``; those changes touch no conversation's
timeline, they are audited instead.

Tagging is idempotent: adding a tag already carried changes nothing and announces
nothing; every real change emits ``tag.added`` / ``tag.removed`` with
``{"tag": name, "tag_id": id}``. The subject is what was tagged; for conversations the
event also lands on the activity timeline.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    DateTime,
    ForeignKey,
    ScalarSelect,
    Select,
    String,
    Uuid,
    delete,
    func,
    literal,
    select,
)
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Mapped, Session, mapped_column, query_expression, with_expression

from audit.service import Actor, record_change
from crm.models import LIVE, Contact
from events import names as events
from events.outbox import emit
from helpdesk.activity import conversation_event
from helpdesk.errors import InvalidField, save_unique
from tenants.db import TenantBase, Timestamps, UuidPrimaryKey, utcnow

MAX_NAME_LENGTH = 64
#: Characters a name may not hold: ``/`` would break ``…/tags/{name}`` paths, ``,`` lists.
FORBIDDEN = frozenset("/,")


class Tag(UuidPrimaryKey, Timestamps, TenantBase):
    __tablename__ = "tags"

    #: As first written (spacing collapsed); renames change it.
    name: Mapped[str] = mapped_column(String(MAX_NAME_LENGTH))
    #: ``name`` case-folded: what uniqueness and look-ups by name use.
    key: Mapped[str] = mapped_column(String(255), unique=True)
    color: Mapped[str | None] = mapped_column(String(7))
    description: Mapped[str | None] = mapped_column(String(500))

    #: Loaded by :func:`tags_with_usage` only (None otherwise).
    conversation_count: Mapped[int | None] = query_expression()
    contact_count: Mapped[int | None] = query_expression()


class ConversationTag(TenantBase):
    __tablename__ = "conversation_tags"

    conversation_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("conversations.id", ondelete="CASCADE"), primary_key=True
    )
    tag_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ContactTag(TenantBase):
    __tablename__ = "contact_tags"

    contact_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True
    )
    tag_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


# -- names ----------------------------------------------------------------------------


def key_of(name: str) -> str:
    """The look-up key of ``name`` (no validation: an invalid name simply matches nothing)."""
    return " ".join(name.split()).casefold()


def normalised(name: str, *, field: str = "name") -> str:
    """``name`` with its spacing collapsed; refuses what cannot be a tag name."""
    display = " ".join(name.split())
    if not 1 <= len(display) <= MAX_NAME_LENGTH:
        raise InvalidField(field, f"a tag name has 1 to {MAX_NAME_LENGTH} characters")
    if not display.isprintable() or FORBIDDEN & set(display):
        raise InvalidField(field, "a tag name may not contain '/', ',' or control characters")
    return display


# -- the vocabulary -------------------------------------------------------------------


def _usage(link: type[ConversationTag] | type[ContactTag]) -> ScalarSelect[int]:
    query = select(func.count()).where(link.tag_id == Tag.id)
    if link is ContactTag:  # a deleted contact's tags wait for its purge, uncounted
        live = select(Contact.id).where(Contact.id == ContactTag.contact_id, LIVE)
        query = query.where(live.exists())
    return query.correlate(Tag).scalar_subquery()


def tags_with_usage() -> Select[tuple[Tag]]:
    """Tags with ``conversation_count`` and ``contact_count`` loaded, in the same query."""
    return select(Tag).options(
        with_expression(Tag.conversation_count, _usage(ConversationTag)),
        with_expression(Tag.contact_count, _usage(ContactTag)),
    )


def tag_with_usage(session: Session, tag_id: uuid.UUID) -> Tag | None:
    return session.scalars(
        tags_with_usage()
        .where(Tag.id == tag_id)
        .execution_options(populate_existing=True)  # refresh the counts of a loaded tag
    ).one_or_none()


def get_tag(session: Session, tag_id: uuid.UUID) -> Tag | None:
    return session.get(Tag, tag_id)


def find_tag(session: Session, reference: str) -> Tag | None:
    """The tag whose id, else whose name, is ``reference``."""
    try:
        tag = session.get(Tag, uuid.UUID(reference))
    except ValueError:
        tag = None
    return tag or session.scalars(select(Tag).where(Tag.key == key_of(reference))).first()


def _flush(session: Session, tag: Tag) -> Tag:
    return save_unique(
        session,
        tag,
        constraint="uq_tags_key",
        code="tag_name_taken",
        field="name",
        message="Another tag has this name.",
    )


def create_tag(
    session: Session, *, name: str, color: str | None = None, description: str | None = None
) -> Tag:
    name = normalised(name)
    return _flush(session, Tag(name=name, key=key_of(name), color=color, description=description))


def update_tag(session: Session, tag: Tag, **changes: Any) -> Tag:
    """Change ``name`` (a rename: every carrier shows the new name), ``color``, ``description``."""
    if "name" in changes:
        changes["name"] = normalised(changes["name"])
        tag.key = key_of(changes["name"])
    for field, value in changes.items():
        setattr(tag, field, value)
    return _flush(session, tag)


def delete_tag(session: Session, tag: Tag) -> None:
    """Delete a tag; it disappears from every conversation and contact carrying it."""
    session.delete(tag)
    session.flush()


def merge_tags(session: Session, source: Tag, *, into: Tag) -> None:
    """Move every link of ``source`` to ``into`` (a carrier of both keeps one), then delete it."""
    if source.id == into.id:
        raise InvalidField("into", "a tag cannot be merged into itself")
    for tagging in (CONVERSATIONS, CONTACTS):
        link, owner = tagging.link, tagging.owner
        moved = select(owner, literal(into.id, Uuid), link.created_at).where(
            link.tag_id == source.id
        )
        session.execute(
            insert(link)
            .from_select([owner.key, "tag_id", "created_at"], moved)
            .on_conflict_do_nothing()
        )
    delete_tag(session, source)
    session.expire_all()  # carriers' loaded tag lists are stale now


# -- tagging --------------------------------------------------------------------------


@dataclass(frozen=True)
class Tagging:
    """What can carry tags: its link table, and how a change there is announced."""

    link: type[ConversationTag] | type[ContactTag]
    subject_type: str

    @property
    def owner(self):
        return getattr(self.link, f"{self.subject_type}_id")

    def announce(
        self,
        session: Session,
        owner_id: uuid.UUID,
        tag: Tag,
        *,
        name: str,
        account_id: uuid.UUID,
        actor: Actor,
    ) -> None:
        payload = {"tag": tag.name, "tag_id": str(tag.id)}
        if self.subject_type == "conversation":
            conversation_event(
                session,
                conversation_id=owner_id,
                account_id=account_id,
                actor=actor,
                name=name,
                payload=payload,
            )
        else:
            emit(
                session,
                account_id=account_id,
                name=name,
                actor=actor,
                subject_type=self.subject_type,
                subject_id=owner_id,
                payload=payload,
            )
            # A contact's tags are part of the contact: each change is in its audit log.
            added = name == events.TAG_ADDED
            record_change(
                session,
                actor=actor,
                action="contact.tagged" if added else "contact.untagged",
                target_type="contact",
                target_id=owner_id,
                before=None if added else {"tags": [tag.name]},
                after={"tags": [tag.name]} if added else None,
            )


CONVERSATIONS = Tagging(ConversationTag, "conversation")
CONTACTS = Tagging(ContactTag, "contact")


def ensure_tags(session: Session, names: Iterable[str]) -> list[Tag]:
    """The tags named ``names``, creating the unknown ones (safe against a concurrent twin)."""
    wanted: dict[str, str] = {}
    for name in names:
        display = normalised(name, field="tags")
        wanted.setdefault(key_of(display), display)
    if not wanted:
        return []
    known = select(Tag).where(Tag.key.in_(wanted)).order_by(Tag.key)
    found = list(session.scalars(known))
    if len(found) == len(wanted):  # the usual case: one query
        return found
    now = utcnow()
    session.execute(
        insert(Tag)
        .values(
            [
                {"id": uuid.uuid4(), "name": n, "key": k, "created_at": now, "updated_at": now}
                for k, n in wanted.items()
            ]
        )
        .on_conflict_do_nothing(index_elements=["key"])
    )
    return list(session.scalars(known))


def tags_on(session: Session, tagging: Tagging, owner_id: uuid.UUID) -> list[Tag]:
    return list(
        session.scalars(
            select(Tag)
            .join(tagging.link, tagging.link.tag_id == Tag.id)
            .where(tagging.owner == owner_id)
            .order_by(Tag.key)
        )
    )


def attach(
    session: Session,
    tagging: Tagging,
    owner_id: uuid.UUID,
    tags: Iterable[Tag],
    *,
    account_id: uuid.UUID,
    actor: Actor,
) -> list[Tag]:
    """Link ``tags`` to the carrier; announce and return the ones it did not carry yet."""
    by_id = {tag.id: tag for tag in tags}
    if not by_id:
        return []
    now = utcnow()
    added = session.scalars(
        insert(tagging.link)
        .values([{tagging.owner.key: owner_id, "tag_id": i, "created_at": now} for i in by_id])
        .on_conflict_do_nothing()
        .returning(tagging.link.tag_id)
    ).all()
    new = sorted((by_id[i] for i in added), key=lambda tag: tag.key)
    for tag in new:
        tagging.announce(
            session, owner_id, tag, name=events.TAG_ADDED, account_id=account_id, actor=actor
        )
    return new


def add_tags(
    session: Session,
    tagging: Tagging,
    owner_id: uuid.UUID,
    *,
    account_id: uuid.UUID,
    actor: Actor,
    names: Iterable[str],
) -> list[Tag]:
    """Tag the carrier with ``names`` (unknown names become tags); return the new ones."""
    tags = ensure_tags(session, names)
    return attach(session, tagging, owner_id, tags, account_id=account_id, actor=actor)


def remove_tag(
    session: Session,
    tagging: Tagging,
    owner_id: uuid.UUID,
    tag: Tag,
    *,
    account_id: uuid.UUID,
    actor: Actor,
) -> bool:
    """Untag the carrier; False (and no event) when it did not carry ``tag``."""
    removed = session.execute(
        delete(tagging.link).where(tagging.owner == owner_id, tagging.link.tag_id == tag.id)
    ).rowcount
    if removed:
        tagging.announce(
            session, owner_id, tag, name=events.TAG_REMOVED, account_id=account_id, actor=actor
        )
    return bool(removed)


def conversations_tagged(names: Iterable[str]) -> Select[tuple[uuid.UUID]]:
    """Ids of the conversations carrying every one of ``names`` (an unknown name: none)."""
    keys = {key_of(name) for name in names}
    return (
        select(ConversationTag.conversation_id)
        .join(Tag, Tag.id == ConversationTag.tag_id)
        .where(Tag.key.in_(keys))
        .group_by(ConversationTag.conversation_id)
        .having(func.count() == len(keys))
    )
