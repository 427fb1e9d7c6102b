"""Automation rules: create, change (each edit a new version), restore, reorder, delete.

Everything a rule holds is checked before it is stored: its trigger, its conditions
(they compile, every field they read is in the catalogue, every segment they name with
``contact.segments`` exists) and its actions' parameters
(:mod:`automation.actions`). A refusal names the offending part as a path into the rule,
``conditions/and/1/==/0/var`` or ``actions/0/params/agent_id``.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from audit.service import Actor, record_change, snapshot
from automation import jsonlogic, schedules
from automation.actions import check_actions
from automation.catalogue import SCHEDULES, TRIGGER_EVENTS, unknown_fields
from automation.models import RUN_ORDER, Rule, RuleVersion
from crm.segments.service import unknown_segment_ids
from helpdesk.errors import InvalidField

#: What a version of a rule keeps, and what an edit may change.
DEFINITION = (
    "name",
    "description",
    "enabled",
    "events",
    "schedule",
    "conditions",
    "actions",
    "stop_processing",
    "log_misses",
)
#: What a rule given without these holds (``true``: the conditions match every event).
DEFAULTS: dict[str, Any] = {
    "description": "",
    "enabled": True,
    "events": [],
    "schedule": None,
    "conditions": True,
    "actions": [],
    "stop_processing": False,
    "log_misses": False,
}
MAX_SCHEDULE_MINUTES = 60 * 24 * 90


def _check_trigger(events: list[str], schedule: dict[str, Any] | None) -> None:
    if bool(events) == bool(schedule):
        raise InvalidField("events", "give event names or a schedule (one of the two)")
    unknown = [name for name in events if name not in TRIGGER_EVENTS]
    if unknown:
        known = ", ".join(TRIGGER_EVENTS)
        raise InvalidField("events", f"unknown events {unknown}; one of {known}")
    if schedule is None:
        return
    if set(schedule) != {"type", "minutes"} or schedule["type"] not in SCHEDULES:
        raise InvalidField(
            "schedule", f'{{"type": one of {", ".join(SCHEDULES)}, "minutes": a number}}'
        )
    minutes = schedule["minutes"]
    if isinstance(minutes, bool) or not isinstance(minutes, int):
        raise InvalidField("schedule/minutes", "a whole number of minutes")
    if not 1 <= minutes <= MAX_SCHEDULE_MINUTES:
        raise InvalidField("schedule/minutes", f"between 1 and {MAX_SCHEDULE_MINUTES}")


def check_conditions(conditions: Any) -> None:
    """The conditions compile, and read only catalogue fields."""
    try:
        jsonlogic.compile(conditions)
    except jsonlogic.JsonLogicError as exc:
        raise InvalidField(f"conditions{exc.path}", str(exc)) from exc
    unknown = unknown_fields(conditions)
    if unknown:
        at, path = unknown[0]
        raise InvalidField(f"conditions{at}", f"no field {path!r} in the evaluation context")


def check_definition(
    session: Session, *, account_id: uuid.UUID, definition: dict[str, Any]
) -> dict[str, Any]:
    """``definition`` (every key of :data:`DEFINITION`) checked and normalised."""
    name = (definition["name"] or "").strip()
    if not name:
        raise InvalidField("name", "required")
    _check_trigger(definition["events"], definition["schedule"])
    check_conditions(definition["conditions"])
    for at, value in unknown_segment_ids(session, definition["conditions"]):
        raise InvalidField(f"conditions{at}", f"no segment {value!r} in this account")
    actions = check_actions(session, account_id=account_id, actions=definition["actions"])
    return {
        **definition,
        "name": name,
        "events": sorted(set(definition["events"])),
        "actions": actions,
    }


def _definition(rule: Rule) -> dict[str, Any]:
    return {key: getattr(rule, key) for key in DEFINITION}


def _keep_version(session: Session, rule: Rule, actor: Actor) -> None:
    session.add(
        RuleVersion(
            id=uuid.uuid4(),
            rule_id=rule.id,
            version=rule.version,
            definition=_definition(rule),
            created_by=actor.id if actor.type == "user" else None,
        )
    )


def _audit(session: Session, actor: Actor, action: str, rule: Rule, **states: Any) -> None:
    record_change(
        session,
        actor=actor,
        action=f"automation_rule.{action}",
        target_type="automation_rule",
        target_id=rule.id,
        **states,
    )


def list_rules(session: Session) -> list[Rule]:
    """Every rule, in the order they run."""
    return list(session.scalars(select(Rule).order_by(*RUN_ORDER)))


def get_rule(session: Session, rule_id: uuid.UUID) -> Rule | None:
    return session.get(Rule, rule_id)


def create_rule(
    session: Session, *, account_id: uuid.UUID, actor: Actor, **definition: Any
) -> Rule:
    """A new rule, version 1, after every rule there is."""
    checked = check_definition(session, account_id=account_id, definition=DEFAULTS | definition)
    last = session.scalar(select(func.max(Rule.position)))
    by = actor.id if actor.type == "user" else None
    rule = Rule(
        id=uuid.uuid4(),
        position=0 if last is None else last + 1,
        version=1,
        created_by=by,
        updated_by=by,
        failures=0,
        **checked,
    )
    session.add(rule)
    session.flush()
    _keep_version(session, rule, actor)
    _audit(session, actor, "created", rule, after=snapshot(rule))
    _arm(session, account_id, rule)
    return rule


def _arm(session: Session, account_id: uuid.UUID, rule: Rule) -> None:
    """An enabled time-based rule starts counting for the conversations already there."""
    if rule.enabled and rule.schedule:
        schedules.arm(session, account_id=account_id, rule=rule)


def update_rule(
    session: Session, rule: Rule, *, account_id: uuid.UUID, actor: Actor, **changes: Any
) -> Rule:
    """Apply ``changes`` as the rule's next version (nothing changed: no new version).

    Re-enabling a rule the engine switched off clears its failure count and reason.
    """
    unknown = set(changes) - set(DEFINITION)
    if unknown:
        raise TypeError(f"not changeable: {sorted(unknown)}")
    current = _definition(rule)
    checked = check_definition(session, account_id=account_id, definition=current | changes)
    if checked == current:
        return rule
    before = snapshot(rule)
    for key, value in checked.items():
        setattr(rule, key, value)
    if checked["enabled"] and not current["enabled"]:
        rule.failures, rule.disabled_reason = 0, None
    rule.version += 1
    rule.updated_by = actor.id if actor.type == "user" else None
    session.flush()
    _keep_version(session, rule, actor)
    _audit(session, actor, "updated", rule, before=before, after=snapshot(rule))
    if (checked["schedule"], checked["enabled"]) != (current["schedule"], current["enabled"]):
        _arm(session, account_id, rule)
    return rule


def list_versions(session: Session, rule: Rule) -> list[RuleVersion]:
    """Every version of ``rule``, newest first."""
    return list(
        session.scalars(
            select(RuleVersion)
            .where(RuleVersion.rule_id == rule.id)
            .order_by(RuleVersion.version.desc())
        )
    )


def restore_version(
    session: Session, rule: Rule, version: int, *, account_id: uuid.UUID, actor: Actor
) -> Rule:
    """Bring back ``version``'s definition as the rule's next version, checked again
    (an agent or team it named may be gone since)."""
    kept = session.scalar(
        select(RuleVersion).where(RuleVersion.rule_id == rule.id, RuleVersion.version == version)
    )
    if kept is None:
        raise InvalidField("version", f"rule has no version {version}")
    return update_rule(session, rule, account_id=account_id, actor=actor, **kept.definition)


def reorder_rules(session: Session, *, rule_ids: list[uuid.UUID], actor: Actor) -> list[Rule]:
    """Set the run order: ``rule_ids`` must name every rule of the account once."""
    rules = {rule.id: rule for rule in list_rules(session)}
    if len(set(rule_ids)) != len(rule_ids) or set(rule_ids) != set(rules):
        raise InvalidField("rule_ids", "name every rule of the account exactly once")
    for position, rule_id in enumerate(rule_ids):
        rules[rule_id].position = position
    session.flush()
    record_change(
        session,
        actor=actor,
        action="automation_rule.reordered",
        target_type="automation_rule",
        target_id=None,
        after={"order": [str(rule_id) for rule_id in rule_ids]},
    )
    return [rules[rule_id] for rule_id in rule_ids]


def delete_rule(session: Session, rule: Rule, *, actor: Actor) -> None:
    """Delete a rule and its versions (disable it instead to keep it)."""
    _audit(session, actor, "deleted", rule, before=snapshot(rule))
    session.delete(rule)
    session.flush()
