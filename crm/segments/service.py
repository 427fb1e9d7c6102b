"""Segments: create, change, delete, count, list their contacts, and say which a contact
is in. Callers own the transaction; every change is audited (``segment.*``).

A segment's condition is checked when saved: it must compile (the evaluator's rules),
read only the contact's fields (:mod:`crm.segments.fields`) and compile to SQL exactly
(:mod:`automation.jsonlogic.sql`); a refusal names the offending node as a pointer,
``condition/and/1/==/0/var``. It is compiled again whenever it is read, against the
custom fields as they are then: a field deleted since reads as null, a field whose type
changed may make it uncompilable (:class:`SegmentBroken`, answered 409 by the API; its
count is then unknown and it holds no contact for automation).

Counting every segment of the account takes one scan of its contacts
(``count(*) FILTER (WHERE …)`` per segment), and which segments one contact is in one
statement: the same clauses, on its row.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, case, func, literal, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from audit.service import Actor, record_change, snapshot
from automation.catalogue import compared_literals
from automation.jsonlogic import JsonLogicError
from automation.jsonlogic.postgres import server_fold
from automation.jsonlogic.sql import Compiled, to_sql
from automation.models import Rule
from crm.custom_fields import CustomFieldDefinition, list_definitions
from crm.models import Contact
from crm.segments.fields import resolver
from crm.segments.models import NAME_INDEX, Segment
from helpdesk.errors import InvalidField, save_unique

log = logging.getLogger(__name__)

#: Segments per account: each one costs every count of the list and every membership.
MAX_SEGMENTS = 100
#: The context field listing the segments a contact is in (automation conditions).
SEGMENTS_FIELD = "contact.segments"
CONDITION = "condition"
CHANGEABLE = ("name", "description", "condition")


@dataclass(frozen=True)
class Problem:
    """Why a saved condition does not compile now: where (a pointer) and what."""

    at: str
    message: str


class SegmentBroken(Exception):
    """A saved condition that no longer compiles (its fields changed since)."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.message)
        self.problem = problem


class SegmentInUse(Exception):
    """Automation rules name the segment in their conditions."""

    def __init__(self, rules: list[Rule]) -> None:
        super().__init__(", ".join(rule.name for rule in rules))
        self.rules = rules


@dataclass(frozen=True)
class Counted:
    """A segment with how many live contacts it holds (None when it does not compile)."""

    segment: Segment
    contact_count: int | None
    problem: Problem | None


def _problem(exc: JsonLogicError) -> Problem:
    return Problem(f"{CONDITION}{exc.path}", str(exc))


def _definitions(session: Session) -> list[CustomFieldDefinition]:
    return list_definitions(session, "contact")


# --- compiling -----------------------------------------------------------------------


def compiled(
    session: Session,
    condition: Any,
    *,
    strict: bool = True,
    definitions: list[CustomFieldDefinition] | None = None,
) -> Compiled:
    """``condition`` as SQL over the contacts (:class:`JsonLogicError` when it is
    refused); ``strict``: an unknown custom field is refused rather than null."""
    fields = _definitions(session) if definitions is None else definitions
    fold = server_fold(session.connection())
    return to_sql(condition, resolver(fields, strict=strict), fold=fold)


def check_condition(session: Session, condition: Any) -> Compiled:
    """``condition`` compiled for saving, or :class:`InvalidField` naming the node
    (``condition/…``). Its regular expressions are compiled once by the server, whose
    limits are not Python's."""
    try:
        result = compiled(session, condition)
    except JsonLogicError as exc:
        raise InvalidField(f"{CONDITION}{exc.path}", str(exc)) from exc
    for at, pattern in result.patterns:
        try:
            with session.begin_nested():
                session.execute(select(literal("").op("~")(pattern)))
        except DBAPIError as exc:
            message = f"the database cannot run this pattern: {exc.orig}".strip()
            raise InvalidField(f"{CONDITION}{at}", message) from exc
    return result


def contacts_matching(session: Session, condition: Any) -> Select[tuple[Contact]]:
    """The live contacts for which the unsaved ``condition`` holds (not yet ordered),
    checked as a save checks it (:class:`InvalidField` naming the node)."""
    return _live().where(check_condition(session, condition).clause)


def _live() -> Select[tuple[Contact]]:
    return select(Contact).where(Contact.deleted_at.is_(None))


def segment_clause(
    session: Session,
    segment: Segment,
    definitions: list[CustomFieldDefinition] | None = None,
) -> ColumnElement[bool]:
    """The saved ``segment``'s condition as SQL now; :class:`SegmentBroken` when it no
    longer compiles."""
    try:
        return compiled(session, segment.condition, strict=False, definitions=definitions).clause
    except JsonLogicError as exc:
        raise SegmentBroken(_problem(exc)) from exc


def members(session: Session, segment: Segment) -> Select[tuple[Contact]]:
    """The segment's live contacts (not yet ordered); :class:`SegmentBroken`."""
    return _live().where(segment_clause(session, segment))


# --- reading -------------------------------------------------------------------------


def get_segment(session: Session, segment_id: uuid.UUID) -> Segment | None:
    return session.get(Segment, segment_id)


def list_segments(session: Session) -> list[Segment]:
    """Every segment, by name (ignoring case)."""
    return list(session.scalars(select(Segment).order_by(func.lower(Segment.name), Segment.id)))


def counted(session: Session, segments: list[Segment]) -> list[Counted]:
    """``segments`` with their contact counts, all from one scan of the contacts."""
    definitions = _definitions(session)
    clauses: dict[uuid.UUID, ColumnElement[bool]] = {}
    problems: dict[uuid.UUID, Problem] = {}
    for segment in segments:
        try:
            clauses[segment.id] = segment_clause(session, segment, definitions)
        except SegmentBroken as exc:
            problems[segment.id] = exc.problem
    counts: dict[uuid.UUID, int] = {}
    if clauses:
        totals = session.execute(
            select(*(func.count().filter(clause) for clause in clauses.values()))
            .select_from(Contact)
            .where(Contact.deleted_at.is_(None))
        ).one()
        counts = dict(zip(clauses, totals, strict=True))
    return [
        Counted(segment, counts.get(segment.id), problems.get(segment.id)) for segment in segments
    ]


def memberships(session: Session, contact_id: uuid.UUID) -> list[str]:
    """The ids of the segments the contact is in, sorted (none once it is deleted), from
    one statement; a segment that no longer compiles holds nobody (and is logged)."""
    segments = list(session.scalars(select(Segment).order_by(Segment.id)))
    if not segments:
        return []
    definitions = _definitions(session)
    tests: list[tuple[Segment, ColumnElement[bool]]] = []
    for segment in segments:
        try:
            tests.append((segment, segment_clause(session, segment, definitions)))
        except SegmentBroken as exc:
            log.warning("segment %s does not compile: %s", segment.id, exc)
    if not tests:
        return []
    row = session.execute(
        select(*(case((clause, True), else_=False) for _, clause in tests)).where(
            Contact.id == contact_id, Contact.deleted_at.is_(None)
        )
    ).first()
    if row is None:
        return []
    return [str(segment.id) for (segment, _), inside in zip(tests, row, strict=True) if inside]


# --- changing ------------------------------------------------------------------------


def _audit(session: Session, actor: Actor, action: str, segment: Segment, **states: Any) -> None:
    record_change(
        session,
        actor=actor,
        action=f"segment.{action}",
        target_type="segment",
        target_id=segment.id,
        **states,
    )


def _name(name: Any) -> str:
    cleaned = " ".join(str(name or "").split())
    if not cleaned:
        raise InvalidField("name", "required")
    return cleaned


def _saved(session: Session, segment: Segment) -> Segment:
    return save_unique(
        session,
        segment,
        constraint=NAME_INDEX,
        code="segment_name_taken",
        field="name",
        message="Another segment has this name (names are compared ignoring case).",
    )


def create_segment(
    session: Session,
    *,
    actor: Actor,
    name: str,
    condition: Any,
    description: str = "",
) -> Segment:
    """A new segment; refused: a name taken (:class:`~helpdesk.errors.Conflict`), a
    condition that does not compile exactly, too many segments (:class:`InvalidField`)."""
    name = _name(name)
    check_condition(session, condition)
    if session.scalar(select(func.count()).select_from(Segment)) >= MAX_SEGMENTS:
        raise InvalidField("name", f"an account has at most {MAX_SEGMENTS} segments")
    by = actor.id if actor.type == "user" else None
    segment = _saved(
        session,
        Segment(
            id=uuid.uuid4(),
            name=name,
            description=description or "",
            condition=condition,
            created_by=by,
            updated_by=by,
        ),
    )
    _audit(session, actor, "created", segment, after=snapshot(segment))
    return segment


def update_segment(session: Session, segment: Segment, *, actor: Actor, **changes: Any) -> Segment:
    """Change a segment's name, description or condition (checked as on creation)."""
    unknown = set(changes) - set(CHANGEABLE)
    if unknown:
        raise TypeError(f"not changeable: {sorted(unknown)}")
    if "name" in changes:
        changes["name"] = _name(changes["name"])
    if "description" in changes:
        changes["description"] = changes["description"] or ""
    if CONDITION in changes:
        check_condition(session, changes[CONDITION])
    before = snapshot(segment)
    changed = {key: value for key, value in changes.items() if getattr(segment, key) != value}
    if not changed:
        return segment
    for key, value in changed.items():
        setattr(segment, key, value)
    segment.updated_by = actor.id if actor.type == "user" else None
    _saved(session, segment)
    _audit(session, actor, "updated", segment, before=before, after=snapshot(segment))
    return segment


def rules_using(session: Session, segment_id: uuid.UUID) -> list[Rule]:
    """The automation rules whose conditions name the segment, by name."""
    wanted = str(segment_id)
    rules = session.scalars(select(Rule).order_by(Rule.name, Rule.id))
    return [
        rule
        for rule in rules
        if any(value == wanted for _, value in compared_literals(rule.conditions, SEGMENTS_FIELD))
    ]


def delete_segment(session: Session, segment: Segment, *, actor: Actor) -> None:
    """Delete a segment, unless a rule's conditions name it (:class:`SegmentInUse`: a
    rule must not silently stop matching)."""
    rules = rules_using(session, segment.id)
    if rules:
        raise SegmentInUse(rules)
    _audit(session, actor, "deleted", segment, before=snapshot(segment))
    session.delete(segment)
    session.flush()


def unknown_segment_ids(session: Session, logic: Any) -> list[tuple[str, str]]:
    """Every ``(pointer, value)`` where ``logic`` compares ``contact.segments`` with a
    string that is no segment of the account (for checking a rule before saving it)."""
    named = compared_literals(logic, SEGMENTS_FIELD)
    ids = {_uuid(value) for _, value in named} - {None}
    existing = (
        {str(i) for i in session.scalars(select(Segment.id).where(Segment.id.in_(ids)))}
        if ids
        else set()
    )
    return [(at, value) for at, value in named if value not in existing]


def _uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


def contacts_in(session: Session, segment_id: uuid.UUID) -> ColumnElement[bool] | None:
    """The clause of the segment ``segment_id`` for narrowing a contact query; None when
    the account has no such segment; :class:`SegmentBroken` when it does not compile."""
    segment = get_segment(session, segment_id)
    return None if segment is None else segment_clause(session, segment)
