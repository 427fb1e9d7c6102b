"""Conversation rules: creation, field changes, the lifecycle and assignment.

Every change emits its event (``events.outbox.emit``) in the caller's transaction, with
the changed fields as ``{"field": [before, after]}``.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from audit.service import Actor
from crm.models import Contact
from events import names
from helpdesk import states
from helpdesk.activity import conversation_event
from helpdesk.errors import Conflict, InvalidField
from helpdesk.members import require_member
from helpdesk.models import Channel, Conversation, Team
from tenants.db import utcnow


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
        if fields.get(field) is not None and session.get(model, fields[field]) is None:
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
) -> Conversation:
    fields = {
        "channel_id": channel_id,
        "contact_id": contact_id,
        "subject": subject,
        "priority": priority,
        "team_id": team_id,
        "assignee_id": assignee_id,
    }
    _check_references(session, account_id=account_id, fields=fields)
    now = utcnow()
    conversation = Conversation(
        id=uuid.uuid4(),
        status=states.ASSIGNED if assignee_id else states.OPEN,
        last_activity_at=now,
        created_at=now,
        updated_at=now,
        **fields,
    )
    session.add(conversation)
    session.flush()
    payload = {k: [None, _plain(v)] for k, v in fields.items() if v is not None}
    payload["status"] = [None, conversation.status]
    _emit(
        session,
        conversation,
        account_id=account_id,
        actor=actor,
        name=names.CONVERSATION_CREATED,
        payload=payload,
    )
    return conversation


def update_conversation(
    session: Session,
    conversation: Conversation,
    *,
    account_id: uuid.UUID,
    actor: Actor,
    **changes: Any,
) -> Conversation:
    """Change ``subject``, ``priority`` or ``team_id``."""
    unknown = set(changes) - {"subject", "priority", "team_id"}
    if unknown:
        raise TypeError(f"not changeable here: {sorted(unknown)}")
    _check_references(session, account_id=account_id, fields=changes)
    changed = _set(conversation, changes)
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
    """Move along the lifecycle (:mod:`helpdesk.states`); refuse what it does not allow."""
    states.check(conversation.status, status)
    if status == states.ASSIGNED and conversation.assignee_id is None:
        raise Conflict(
            "assignee_required", "Assign the conversation to someone first.", "assignee_id"
        )
    if status == states.SNOOZED:
        if snoozed_until is None or snoozed_until <= utcnow():
            raise InvalidField("snoozed_until", "a future time is required to snooze")
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
) -> Conversation:
    """Assign to a member (or unassign with None).

    An ``open`` conversation becomes ``assigned``; an ``assigned`` one left without an
    assignee goes back to ``open`` (a status_changed event follows the assigned one).
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
        payload=changed,
    )
    follow = None
    if assignee_id is not None and conversation.status == states.OPEN:
        follow = states.ASSIGNED
    elif assignee_id is None and conversation.status == states.ASSIGNED:
        follow = states.OPEN
    if follow is not None:
        change_status(session, conversation, account_id=account_id, actor=actor, status=follow)
    return conversation
