"""The engine: runs an account's rules on each event they listen to, in an RQ worker.

For an event it finds the enabled rules listening to it, in order (from the worker's
:mod:`~automation.rulebook`), builds the context once (:mod:`automation.context`) and
evaluates each rule's conditions (compiled once per rule version). A matching rule's
actions run in order, each in a savepoint of its own: one that fails is rolled back and
logged while the others go on. Each matching evaluation is written to the run log with
its per-condition results and every action's outcome and duration, in the same
transaction as the actions' changes.

Time-based rules run the same way, on the ``automation.schedule_due`` events that
:mod:`automation.schedules` writes when their moment comes; after every event about a
conversation the engine re-plans that conversation's schedule timer.

A transient failure (the database or Redis unreachable, a deadlock) is not an action's
fault: it aborts the whole event, which RQ retries with backoff, and nothing of the
attempt is kept.

Loop protection: the events an action writes carry the event's depth + 1 and the chain of
rules that led to them (:func:`events.outbox.caused_by`); a rule never runs on an event
that its own action caused, however far up the chain, and no rule runs on an event at
the depth limit, so two rules that would ping-pong stop there.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Hashable
from datetime import timedelta
from typing import Any

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy import delete, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from audit.service import SYSTEM, Actor, record_change
from automation import jsonlogic, schedules
from automation.catalogue import TRIGGER_EVENTS
from automation.context import add_segments, build, sample_event
from automation.models import Rule, RuleRun
from automation.rulebook import BOOK, SCHEDULED, Listed
from automation.runners import RUNNERS, Job, Skipped
from core.mail import send_email
from events import names
from events.consumers import Event, register
from events.outbox import MAX_CAUSATION_DEPTH, caused_by
from helpdesk.errors import HelpdeskError, InvalidField, NotFound
from helpdesk.models import Conversation, Message
from identity.models import User
from tenants.db import utcnow
from tenants.models import Membership, Role
from tenants.registry import AccountRecord, live_account
from tenants.session import tenant_session

log = logging.getLogger(__name__)

#: Runs in a row with a failed action after which a rule switches itself off.
FAILURE_LIMIT = 5
#: Days the run log keeps a run; each worker prunes an account's log at most hourly.
RUN_RETENTION_DAYS = 30
PRUNE_EVERY = 3600.0
_pruned: dict[uuid.UUID, float] = {}
#: Branches of a condition document that the run log reports one by one.
_BRANCHES = frozenset({"and", "or", "!", "if", "?:"})
#: Failures of the infrastructure, not of an action: the whole event is retried.
TRANSIENT = (OperationalError, RedisConnectionError, RedisTimeoutError)


def explain(
    conditions: Any, context: dict[str, Any], at: str = "", *, key: Hashable | None = None
) -> list[dict[str, Any]]:
    """What each and/or/not branch of ``conditions`` evaluated to, outermost first, as
    ``{"at": JSON pointer, "rule": the branch, "result": truthiness}``.

    ``key`` (a saved rule's ``(id, version)``) keeps each branch compiled for next time.
    """
    check = jsonlogic.cached((key, at), conditions) if key else jsonlogic.compile(conditions)
    found = [{"at": at or "/", "rule": conditions, "result": jsonlogic.js.truthy(check(context))}]
    if isinstance(conditions, dict) and len(conditions) == 1:
        ((operator, args),) = conditions.items()
        if operator in _BRANCHES:
            for index, branch in enumerate(args if isinstance(args, list) else [args]):
                if isinstance(branch, dict):
                    found += explain(branch, context, f"{at}/{operator}/{index}", key=key)
    return found


def matches(rule: Rule | Listed, context: dict[str, Any]) -> bool:
    """Whether ``rule``'s conditions hold for ``context`` (compiled once per version)."""
    check = jsonlogic.cached((rule.id, rule.version), rule.conditions)
    return jsonlogic.js.truthy(check(context))


def perform(
    session: Session,
    rule: Listed,
    event: Event,
    *,
    account: AccountRecord,
    context: dict[str, Any],
    conversation: Conversation | None,
) -> list[dict[str, Any]]:
    """Run ``rule``'s actions on the event's conversation (locked by the caller); each
    action's outcome."""
    job = Job(session, account, Actor("automation", rule.id), conversation, context, rule)
    chain = (*event.payload.get("rule_chain", ()), str(rule.id))
    outcomes = []
    for action in rule.actions:
        started = time.perf_counter()
        outcome: dict[str, Any] = {"type": action["type"], "outcome": "done"}
        try:
            if conversation is None:
                raise Skipped("the event concerns no conversation")
            with session.begin_nested(), caused_by(event.causation_depth, chain):
                outcome |= RUNNERS[action["type"]](job, action["params"]) or {}
        except TRANSIENT:
            raise
        except Skipped as exc:
            outcome |= {"outcome": "skipped", "reason": str(exc)}
        except HelpdeskError as exc:
            outcome |= {"outcome": "failed", "error": str(exc)}
            log.info("rule %s: action %s refused: %s", rule.id, action["type"], exc)
        except Exception as exc:  # one action's crash must not stop the others
            outcome |= {"outcome": "failed", "error": f"{type(exc).__name__}: {exc}"}
            log.exception("rule %s: action %s failed", rule.id, action["type"])
        outcome["ms"] = round((time.perf_counter() - started) * 1000, 3)
        outcomes.append(outcome)
    return outcomes


def _count_failures(
    session: Session, rule: Rule, actions: list[dict[str, Any]], *, account: AccountRecord
) -> None:
    """A run with a failed action counts; a clean run resets the count. At
    :data:`FAILURE_LIMIT` in a row the rule is switched off and the admins are told."""
    errors = [a["error"] for a in actions if a["outcome"] == "failed"]
    failures = rule.failures + 1 if errors else 0
    if failures != rule.failures:  # an unchanged rule must not reload every worker's book
        rule.failures = failures
    if failures < FAILURE_LIMIT:
        return
    rule.enabled = False
    rule.disabled_reason = (
        f"Switched off after {rule.failures} runs in a row with failed actions; "
        f"the last error: {errors[-1]}"
    )[:500]
    record_change(
        session,
        actor=SYSTEM,
        action="automation_rule.switched_off",
        target_type="automation_rule",
        target_id=rule.id,
        before={"enabled": True},
        after={"enabled": False, "reason": rule.disabled_reason},
    )
    admins = session.scalars(
        select(User.email)
        .join(Membership, Membership.user_id == User.id)
        .where(
            Membership.account_id == account.id,
            Membership.role.in_((Role.OWNER, Role.ADMIN)),
            User.deleted_at.is_(None),
        )
    )
    for address in admins:
        send_email(
            session,
            to=address,
            subject=f"Automation rule switched off: {rule.name}",
            text=f'In {account.name}, the automation rule "{rule.name}" was switched '
            f"off.\n\n{rule.disabled_reason}\n\nFix it, then enable it again.",
        )


def _listening(event: Event, book: dict[str, list[Listed]]) -> list[Listed]:
    """The rules to evaluate on ``event``: those listening to its name, or for a
    schedule event, the time-based rules that came due (still enabled, in order)."""
    if event.name != names.AUTOMATION_SCHEDULE_DUE:
        return book.get(event.name, [])
    due = set(event.payload.get("rules", ()))
    return [rule for rule in book.get(SCHEDULED, []) if str(rule.id) in due]


def _log(
    rule: Listed,
    event: Event,
    context: dict[str, Any],
    *,
    matched: bool,
    actions: list[dict[str, Any]],
    started: float,
) -> RuleRun:
    return RuleRun(
        id=uuid.uuid4(),
        rule_id=rule.id,
        rule_version=rule.version,
        event_id=event.id,
        event_name=event.name,
        conversation_id=event.conversation_id,
        matched=matched,
        conditions=explain(rule.conditions, context, key=(rule.id, rule.version)),
        actions=actions,
        duration_ms=round((time.perf_counter() - started) * 1000, 3),
    )


def run_rules(
    session: Session,
    event: Event,
    *,
    account: AccountRecord,
    book: dict[str, list[Listed]] | None = None,
) -> list[RuleRun]:
    """Evaluate the account's rules on ``event`` (``session`` in its tenant); the runs
    logged (the matches, and the misses of rules that log them), flushed with the
    actions' changes (the caller commits). ``book``: the account's rules, if read."""
    if event.causation_depth >= MAX_CAUSATION_DEPTH:
        return []
    if book is None:
        book = BOOK.rules(session, account.schema_name)
    listed = _listening(event, book)
    if not listed:
        return []
    context = build(session, event, account=account)
    add_segments(session, context, [rule.conditions for rule in listed])
    chain = set(event.payload.get("rule_chain", ()))
    runs = []
    conversation: Conversation | None = None
    for candidate in listed:
        if str(candidate.id) in chain:
            continue  # the event comes (maybe indirectly) from this rule's own action
        started = time.perf_counter()
        if not matches(candidate, context):
            if candidate.log_misses:
                miss = _log(candidate, event, context, matched=False, actions=[], started=started)
                runs.append(miss)
            continue
        if conversation is None:  # locked once, when the first rule matches
            conversation = _locked(session, event.conversation_id)
        actions = perform(
            session, candidate, event, account=account, context=context, conversation=conversation
        )
        failed = any(action["outcome"] == "failed" for action in actions)
        if failed or candidate.failures:  # the count moves (the book's may be stale)
            rule = session.get(Rule, candidate.id, with_for_update=True)
            if rule is not None:
                _count_failures(session, rule, actions, account=account)
        runs.append(_log(candidate, event, context, matched=True, actions=actions, started=started))
        if candidate.stop_processing:
            break
    if runs:
        session.add_all(runs)
        _prune_runs(session, account)
    session.flush()
    return runs


def _locked(session: Session, conversation_id: uuid.UUID | None) -> Conversation | None:
    if conversation_id is None:
        return None
    return session.scalar(
        select(Conversation).where(Conversation.id == conversation_id).with_for_update()
    )


def _prune_runs(session: Session, account: AccountRecord) -> None:
    """Drop the account's runs older than the retention period, at most hourly per
    worker: the log is pruned where it grows, with no sweep over every tenant."""
    now = time.monotonic()
    if now - _pruned.get(account.id, -PRUNE_EVERY) < PRUNE_EVERY:
        return
    _pruned[account.id] = now
    expired = utcnow() - timedelta(days=RUN_RETENTION_DAYS)
    session.execute(delete(RuleRun).where(RuleRun.created_at < expired))


def on_event(event: Event) -> None:
    """The consumer: run the rules of the event's account, then re-plan the time-based
    rules of the conversation it concerns, in one transaction."""
    account = live_account(event.account_id)
    if account is None:
        return
    with tenant_session(account) as session:  # commits at the end of the block
        book = BOOK.rules(session, account.schema_name)
        run_rules(session, event, account=account, book=book)
        timed = book.get(SCHEDULED) if event.name in schedules.MOVES_ANCHORS else None
        conversation_id = event.conversation_id if timed else None
        conversation = session.get(Conversation, conversation_id) if conversation_id else None
        if conversation is not None:
            schedules.replan(session, conversation, timed, account_id=account.id, now=utcnow())


def dry_run(conditions: Any, actions: list[dict[str, Any]], context: dict[str, Any]) -> dict:
    """What a rule would do in ``context``, changing nothing: whether it matches, each
    branch's result, and the actions that would run."""
    branches = explain(conditions, context)
    matched = branches[0]["result"]  # the whole document, outermost
    return {
        "matched": matched,
        "conditions": branches,
        "actions": actions if matched else [],
        "context": context,
    }


def try_rule(
    session: Session,
    *,
    account: AccountRecord,
    conditions: Any,
    actions: list[dict[str, Any]],
    event_name: str,
    conversation_id: uuid.UUID | None = None,
    message_id: uuid.UUID | None = None,
    context: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A dry run against a given context document, or against a conversation of the
    account as it is now (and one of its messages, for message events)."""
    if context is None:
        if conversation_id is None or session.get(Conversation, conversation_id) is None:
            raise NotFound("conversation_not_found", "No such conversation.")
        if message_id is not None:
            message = session.get(Message, message_id)
            if message is None or message.conversation_id != conversation_id:
                raise InvalidField("message_id", "no such message in this conversation")
        event = sample_event(
            account=account,
            name=event_name,
            conversation_id=conversation_id,
            message_id=message_id,
        )
        context = build(session, event, account=account)
        add_segments(session, context, [conditions])
    return dry_run(conditions, actions, context)


for _name in (*TRIGGER_EVENTS, names.AUTOMATION_SCHEDULE_DUE):
    register(_name, on_event, key="automation.engine.on_event")
