"""SLA policies and holidays (audited configuration), and applying a policy by hand.

The API checks the shape of a policy (priorities, target names, positive minutes, one
kind of warning); here the references are checked: the channels and teams a policy's
conditions name must exist in this account.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from audit.service import Actor, record_change, snapshot
from events import names
from helpdesk.activity import conversation_event
from helpdesk.errors import InvalidField, save_unique
from helpdesk.models import Channel, Conversation, Team
from helpdesk.sla.models import Holiday, SlaPolicy
from helpdesk.sla.tracking import lock_link, refresh

POLICY_FIELDS = (
    "name",
    "description",
    "enabled",
    "position",
    "hours",
    "targets",
    "warning",
    "conditions",
)


def _audit(session: Session, actor: Actor, action: str, row: SlaPolicy | Holiday, **states) -> None:
    kind = "sla_policy" if isinstance(row, SlaPolicy) else "holiday"
    record_change(
        session,
        actor=actor,
        action=f"{kind}.{action}",
        target_type=kind,
        target_id=row.id,
        **states,
    )


def _clean_targets(targets: dict[str, dict[str, int | None]]) -> dict[str, dict[str, int]]:
    """Targets without the empty entries: a target not set is simply not measured."""
    cleaned = {
        priority: {target: minutes for target, minutes in values.items() if minutes is not None}
        for priority, values in targets.items()
    }
    return {priority: values for priority, values in cleaned.items() if values}


def _check_conditions(session: Session, conditions: dict[str, Any]) -> dict[str, Any]:
    for key, model in (("channel_ids", Channel), ("team_ids", Team)):
        ids = [uuid.UUID(str(i)) for i in conditions.get(key) or ()]
        found = set(session.scalars(select(model.id).where(model.id.in_(ids)))) if ids else set()
        missing = [str(i) for i in ids if i not in found]
        if missing:
            raise InvalidField("conditions", f"no such {key[:-4]}: {', '.join(missing)}")
    return {key: [str(v) for v in values] for key, values in conditions.items() if values}


def _apply_fields(session: Session, policy: SlaPolicy, fields: dict[str, Any]) -> None:
    for key, value in fields.items():
        if key == "targets":
            value = _clean_targets(value)
        elif key == "conditions":
            value = _check_conditions(session, value or {})
        setattr(policy, key, value)


def _save(session: Session, policy: SlaPolicy) -> SlaPolicy:
    return save_unique(
        session,
        policy,
        constraint="uq_sla_policies_name",
        code="sla_policy_name_taken",
        field="name",
    )


def list_policies(session: Session) -> list[SlaPolicy]:
    return list(
        session.scalars(
            select(SlaPolicy).order_by(SlaPolicy.position, SlaPolicy.name, SlaPolicy.id)
        )
    )


def get_policy(session: Session, policy_id: uuid.UUID) -> SlaPolicy | None:
    return session.get(SlaPolicy, policy_id)


def create_policy(session: Session, *, actor: Actor, **fields: Any) -> SlaPolicy:
    """A new policy; without a position it goes last."""
    if fields.get("position") is None:
        last = session.scalar(select(func.max(SlaPolicy.position)))
        fields["position"] = 0 if last is None else last + 1
    policy = SlaPolicy(
        id=uuid.uuid4(), enabled=True, hours="business", targets={}, conditions={}, warning=None
    )
    _apply_fields(session, policy, fields)
    _save(session, policy)
    _audit(session, actor, "created", policy, after=snapshot(policy))
    return policy


def update_policy(
    session: Session, policy: SlaPolicy, *, actor: Actor, **changes: Any
) -> SlaPolicy:
    unknown = set(changes) - set(POLICY_FIELDS)
    if unknown:
        raise TypeError(f"not changeable: {sorted(unknown)}")
    before = snapshot(policy)
    _apply_fields(session, policy, changes)
    _save(session, policy)
    _audit(session, actor, "updated", policy, before=before, after=snapshot(policy))
    return policy


def delete_policy(session: Session, policy: SlaPolicy, *, actor: Actor) -> None:
    """Delete a policy and what it measured (disable it instead to keep its report)."""
    _audit(session, actor, "deleted", policy, before=snapshot(policy))
    session.delete(policy)
    session.flush()


def apply_policy(
    session: Session,
    conversation: Conversation,
    *,
    account_id: uuid.UUID,
    actor: Actor,
    policy_id: uuid.UUID | None,
) -> None:
    """Measure ``conversation`` against ``policy_id`` (None: against no policy) from now
    on, whatever the conditions say; deadlines are recomputed at once."""
    if policy_id is not None:
        policy = session.get(SlaPolicy, policy_id)
        if policy is None:
            raise InvalidField("policy_id", "no such SLA policy")
        if not policy.enabled:
            raise InvalidField("policy_id", "this SLA policy is disabled")
    link = lock_link(session, conversation.id)
    before = link.policy_id
    link.explicit = True
    link.policy_id = policy_id
    session.flush()
    refresh(session, conversation, account_id=account_id)
    if before != policy_id:
        conversation_event(
            session,
            conversation_id=conversation.id,
            account_id=account_id,
            actor=actor,
            name=names.CONVERSATION_UPDATED,
            payload={
                "sla_policy_id": [
                    str(before) if before else None,
                    str(policy_id) if policy_id else None,
                ]
            },
        )


# -- holidays -------------------------------------------------------------------------


def list_holidays(session: Session) -> list[Holiday]:
    return list(session.scalars(select(Holiday).order_by(Holiday.date)))


def get_holiday(session: Session, holiday_id: uuid.UUID) -> Holiday | None:
    return session.get(Holiday, holiday_id)


def _save_holiday(session: Session, holiday: Holiday) -> Holiday:
    return save_unique(
        session, holiday, constraint="uq_holidays_date", code="holiday_date_taken", field="date"
    )


def create_holiday(session: Session, *, actor: Actor, **fields: Any) -> Holiday:
    holiday = _save_holiday(session, Holiday(id=uuid.uuid4(), **fields))
    _audit(session, actor, "created", holiday, after=snapshot(holiday))
    return holiday


def update_holiday(session: Session, holiday: Holiday, *, actor: Actor, **changes: Any) -> Holiday:
    before = snapshot(holiday)
    for key, value in changes.items():
        setattr(holiday, key, value)
    _save_holiday(session, holiday)
    _audit(session, actor, "updated", holiday, before=before, after=snapshot(holiday))
    return holiday


def delete_holiday(session: Session, holiday: Holiday, *, actor: Actor) -> None:
    _audit(session, actor, "deleted", holiday, before=snapshot(holiday))
    session.delete(holiday)
    session.flush()
