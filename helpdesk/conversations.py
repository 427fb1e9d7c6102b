"""Conversation rules: creation, field changes, the lifecycle and assignment.

Every change emits its event (``events.outbox.emit``) in the caller's transaction, with
the changed fields as ``{"field": [before, after]}``.
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from audit.service import Actor
from crm.custom_fields import checked_values
from crm.models import Contact
from events import names
from helpdesk import states
from helpdesk.activity import conversation_event
from helpdesk.errors import Conflict, InvalidField
from helpdesk.members import require_member
from helpdesk.models import Channel, Conversation, Team
from tenants.db import utcnow

ATTRIBUTE_KEY = re.compile(r"[a-z0-9_]{1,64}")
MAX_ATTRIBUTES = 50
SCALARS = (str, int, float, bool)


def _plain(value: Any) -> Any:
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def _set(conversation: Conversation, changes: dict[str, Any]) -> dict[str, list[Any]]:
    """Apply ``changes``; return the ones that changed as ``{field: [before, after]}``."""
    changed = {}
    for field, value in changes.items():
        before = getattr(conversation, field)
        if before != value:
            setattr(conversation, field, value)
            changed[field] = [_plain(before), _plain(value)]
    return changed


def _emit(
    session: Session,
    conversation: Conversation,
    *,
    account_id: uuid.UUID,
    actor: Actor,
    name: str,
    payload: dict[str, Any],
) -> None:
    conversation_event(
        session,
        conversation_id=conversation.id,
        account_id=account_id,
        actor=actor,
        name=name,
        payload=payload,
    )


def _check_references(session: Session, *, account_id: uuid.UUID, fields: dict[str, Any]) -> None:
    for field, model in (("channel_id", Channel), ("contact_id", Contact), ("team_id", Team)):
        if fields.get(field) is None:
            continue
        found = session.get(model, fields[field])
        if found is None or getattr(found, "deleted_at", None) is not None:  # a deleted contact
            raise InvalidField(field, f"no such {field.removesuffix('_id')}")
    if fields.get("assignee_id") is not None:
        require_member(
            session, account_id=account_id, user_id=fields["assignee_id"], field="assignee_id"
        )


def get_conversation(session: Session, conversation_id: uuid.UUID) -> Conversation | None:
    return session.get(Conversation, conversation_id)


def create_conversation(
    session: Session,
    *,
    account_id: uuid.UUID,
    actor: Actor,
    channel_id: uuid.UUID,
    contact_id: uuid.UUID,
    subject: str | None = None,
    priority: str = "none",
    team_id: uuid.UUID | None = None,
    assignee_id: uuid.UUID | None = None,
    custom_fields: dict[str, Any] | None = None,
    require_fields: bool = False,
) -> Conversation:
    """Open a conversation; ``custom_fields`` are checked against the account's
    conversation fields (``crm.custom_fields.CustomFieldError`` names the refused ones),
    the required ones too with ``require_fields`` (a person opening it; not a visitor's
    widget nor a split)."""
    fields = {
        "channel_id": channel_id,
        "contact_id": contact_id,
        "subject": subject,
        "priority": priority,
        "team_id": team_id,
        "assignee_id": assignee_id,
    }
    _check_references(session, account_id=account_id, fields=fields)
    values = checked_values(
        session,
        entity="conversation",
        current={},
        changes=custom_fields or {},
        require=require_fields,
    )
    now = utcnow()
    conversation = Conversation(
        id=uuid.uuid4(),
        status=states.ASSIGNED if assignee_id else states.OPEN,
        last_activity_at=now,
        created_at=now,
        updated_at=now,
        custom_fields=values,
        **fields,
    )
    session.add(conversation)
    session.flush()
    payload = {k: [None, _plain(v)] for k, v in fields.items() if v is not None}
    payload["status"] = [None, conversation.status]
    if values:
        payload["custom_fields"] = [None, values]
    _emit(
        session,
        conversation,
        account_id=account_id,
        actor=actor,
        name=names.CONVERSATION_CREATED,
        payload=payload,
    )
    return conversation


def _merged_attributes(
    current: dict[str, Any], patch: dict[str, Any]
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """``current`` with ``patch`` applied (``None`` removes a key) and the changed keys.

    Typed definitions come later (the CRM's custom fields); until then only the shape is
    checked, so whoever reads the values (filters, automation) meets no nested surprises.
    """
    for key, value in patch.items():
        if not ATTRIBUTE_KEY.fullmatch(key):
            raise InvalidField("custom_attributes", f"{key!r}: keys are [a-z0-9_], 1 to 64")
        values = value if isinstance(value, list) else [value]
        if value is not None and not all(isinstance(v, SCALARS) for v in values):
            raise InvalidField(
                "custom_attributes", f"{key!r}: a value is a string, number, boolean or a list"
            )
    merged = {k: v for k, v in {**current, **patch}.items() if v is not None}
    if len(merged) > MAX_ATTRIBUTES:
        raise InvalidField("custom_attributes", f"at most {MAX_ATTRIBUTES} keys")
    keys = [k for k in patch if current.get(k) != merged.get(k)]
    return merged, [{k: current.get(k) for k in keys}, {k: merged.get(k) for k in keys}]


def update_conversation(
    session: Session,
    conversation: Conversation,
    *,
    account_id: uuid.UUID,
    actor: Actor,
    **changes: Any,
) -> Conversation:
    """Change ``subject``, ``priority``, ``team_id``, ``muted``, ``custom_attributes`` or
    ``custom_fields``.

    ``custom_attributes`` is merged key by key (``None`` removes a key); the event
    carries the changed keys only, as ``[{key: before}, {key: after}]``. ``custom_fields``
    is merged the same way and the result checked whole against the account's conversation
    fields (``crm.custom_fields.checked_values``); the event carries both whole sets.
    """
    unknown = set(changes) - {
        "subject",
        "priority",
        "team_id",
        "muted",
        "custom_attributes",
        "custom_fields",
    }
    if unknown:
        raise TypeError(f"not changeable here: {sorted(unknown)}")
    _check_references(session, account_id=account_id, fields=changes)
    if "custom_fields" in changes:
        changes["custom_fields"] = checked_values(
            session,
            entity="conversation",
            current=conversation.custom_fields,
            changes=changes["custom_fields"],
            require=bool(changes["custom_fields"]),
        )
    attributes = None
    if "custom_attributes" in changes:
        merged, attributes = _merged_attributes(
            conversation.custom_attributes, changes.pop("custom_attributes")
        )
    changed = _set(conversation, changes)
    if attributes and attributes[1]:
        conversation.custom_attributes = merged
        changed["custom_attributes"] = attributes
    if changed:
        session.flush()
        _emit(
            session,
            conversation,
            account_id=account_id,
            actor=actor,
            name=names.CONVERSATION_UPDATED,
            payload=changed,
        )
    return conversation


def change_status(
    session: Session,
    conversation: Conversation,
    *,
    account_id: uuid.UUID,
    actor: Actor,
    status: str,
    snoozed_until: datetime | None = None,
) -> Conversation:
    """Move along the lifecycle (:mod:`helpdesk.states`); refuse what it does not allow.

    Snoozing without ``snoozed_until`` means until the contact's next message (which
    :func:`helpdesk.messages.post_message` turns into a wake-up); with it, a future time.
    """
    states.check(conversation.status, status)
    if status == states.ASSIGNED and conversation.assignee_id is None:
        raise Conflict(
            "assignee_required", "Assign the conversation to someone first.", "assignee_id"
        )
    if status == states.SNOOZED:
        if snoozed_until is not None and snoozed_until <= utcnow():
            raise InvalidField(
                "snoozed_until", "must be in the future (or left out: until the next reply)"
            )
    elif snoozed_until is not None:
        raise InvalidField("snoozed_until", "only for status snoozed")
    changes: dict[str, Any] = {
        "status": status,
        "snoozed_until": snoozed_until if status == states.SNOOZED else None,
    }
    if status == states.RESOLVED:
        changes["resolved_at"] = utcnow()
    elif status != states.CLOSED:
        changes["resolved_at"] = None
    changed = _set(conversation, changes)
    session.flush()
    _emit(
        session,
        conversation,
        account_id=account_id,
        actor=actor,
        name=names.CONVERSATION_STATUS_CHANGED,
        payload=changed,
    )
    return conversation


def assign(
    session: Session,
    conversation: Conversation,
    *,
    account_id: uuid.UUID,
    actor: Actor,
    assignee_id: uuid.UUID | None,
    policy: str | None = None,
) -> Conversation:
    """Assign to a member (or unassign with None).

    An ``open`` conversation becomes ``assigned``; an ``assigned`` one left without an
    assignee goes back to ``open`` (a status_changed event follows the assigned one).
    ``policy`` names the automatic assignment policy that chose the assignee, so the
    event and the timeline tell a rotation's pick from a person's.
    """
    if assignee_id is not None:
        require_member(session, account_id=account_id, user_id=assignee_id, field="assignee_id")
    changed = _set(conversation, {"assignee_id": assignee_id})
    if not changed:
        return conversation
    session.flush()
    _emit(
        session,
        conversation,
        account_id=account_id,
        actor=actor,
        name=names.CONVERSATION_ASSIGNED,
        payload={**changed, "policy": policy} if policy else changed,
    )
    follow = None
    if assignee_id is not None and conversation.status == states.OPEN:
        follow = states.ASSIGNED
    elif assignee_id is None and conversation.status == states.ASSIGNED:
        follow = states.OPEN
    if follow is not None:
        change_status(session, conversation, account_id=account_id, actor=actor, status=follow)
    return conversation
