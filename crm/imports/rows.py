"""Rows into contacts: each row's cells checked as the contact API checks a body, then
matched against the account's contacts and the file's earlier rows, and given an outcome
by the duplicates policy. The dry run and the import share all of it.

**Reading a row** (:class:`Reader`). Cells are stripped of surrounding spaces, and a
``'`` that the export put before a formula-like cell is dropped
(:func:`crm.export.uncell`). Empty cells give nothing (an update never clears a field).
``email`` and ``phone`` are normalised by :mod:`crm.normalise` (a phone without a
country code is read as one of the account's country); lengths are the API's. Custom
field cells are typed by their definition — booleans from ``true``/``false``,
``yes``/``no``, ``1``/``0``; multi-select values separated by ``;`` (as exported) —
and checked by :func:`crm.custom_fields.checked_values`. ``tags`` are names separated by
``,`` or ``;``. A row holding more non-empty cells than the header names columns is
refused. Every problem of a row is reported at once, keyed by the field as the contact
API keys it (``email``, ``custom_fields.plan``; ``row`` for the row as a whole).

**Matching** (:class:`Planner`). A row matches the contact holding its email or phone
(contacts not deleted, and the contacts earlier rows of the file create). Then:

- no match: the row creates a contact; it needs a ``name``, and the account's required
  custom fields, as ``POST …/contacts`` does;
- one match, by the policy: ``skip`` skips the row; ``update`` writes the row's
  non-empty cells into that contact (custom fields merged key by key, tags added), and
  skips it when they change nothing; ``create`` refuses the row, as ``POST …/contacts``
  refuses a taken email or phone;
- email and phone matching two different contacts: skipped under ``skip``, refused
  otherwise (which of them would it be?).

So a later row of the file never creates a contact twice: it is skipped, updates the
contact the earlier row created, or is refused, as the policy says.
"""

from __future__ import annotations

import multiprocessing
import os
import re
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import String, Uuid, any_, bindparam, func, or_, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from crm.custom_fields import (
    BOOLEAN,
    MULTI_SELECT,
    CustomFieldDefinition,
    CustomFieldError,
    checked_values,
)
from crm.export import CUSTOM_PREFIX, uncell
from crm.imports.models import CREATE, SKIP, UPDATE
from crm.models import Contact
from crm.normalise import InvalidValue, normalise_email, normalise_phone
from helpdesk.errors import InvalidField
from helpdesk.tags import ContactTag, Tag, key_of, normalised

FAIL = "fail"
#: The contact API's lengths.
LIMITS = {"name": 200, "email": 320, "phone": 40, "company": 200}
_TRUE, _FALSE = {"true", "yes", "y", "1"}, {"false", "no", "n", "0"}
_TAG_SEPARATORS = re.compile(r"[,;]")


@dataclass
class Row:
    number: int
    cells: list[str]
    #: name, email, phone, company as given (non-empty), normalised.
    fields: dict[str, str] = field(default_factory=dict)
    #: Custom field values given, normalised.
    custom: dict[str, Any] = field(default_factory=dict)
    #: Tag names given, by key.
    tags: dict[str, str] = field(default_factory=dict)
    errors: dict[str, list[str]] = field(default_factory=dict)


class Reader:
    """Reads rows through a mapping (``{header: target}``) for the account's contact
    custom fields (``definitions``, by key) and phone ``region``."""

    def __init__(
        self,
        headers: list[str],
        mapping: dict[str, str | None],
        definitions: dict[str, CustomFieldDefinition],
        *,
        region: str | None,
    ) -> None:
        self.width = len(headers)
        self.definitions = definitions
        self.region = region
        self.standard: dict[str, int] = {}
        self.custom: dict[str, int] = {}
        for index, header in enumerate(headers):
            target = mapping.get(header) if header else None
            if target is None:
                continue
            key = target.removeprefix(CUSTOM_PREFIX)
            if target.startswith(CUSTOM_PREFIX):
                if key in definitions:  # a field deleted since: its column is ignored
                    self.custom[key] = index
            else:
                self.standard[target] = index

    def read(self, number: int, cells: list[str]) -> Row:
        row = Row(number, cells)
        if len(cells) > self.width and any(cell.strip() for cell in cells[self.width :]):
            row.errors["row"] = [f"{len(cells)} cells, but the header names {self.width} columns"]
        for target, index in self.standard.items():
            text = self._cell(cells, index)
            if text:
                self._standard(row, target, text)
        raw: dict[str, Any] = {}
        for key, index in self.custom.items():
            text = self._cell(cells, index)
            if text:
                raw[key] = self._typed(row, self.definitions[key], text)
        raw = {key: value for key, value in raw.items() if value is not None}
        if raw:
            try:
                row.custom = self.checked(current={}, changes=raw, require=False)
            except CustomFieldError as exc:
                row.errors.update(exc.errors)
        return row

    def checked(self, **values: Any) -> dict[str, Any]:
        return checked_values(None, entity="contact", definitions=self.definitions, **values)

    @staticmethod
    def _cell(cells: list[str], index: int) -> str:
        return uncell(cells[index].strip()) if index < len(cells) else ""

    def _standard(self, row: Row, target: str, text: str) -> None:
        if target == "tags":
            for name in filter(None, (n.strip() for n in _TAG_SEPARATORS.split(text))):
                try:
                    display = normalised(name, field="tags")
                except InvalidField as exc:
                    row.errors.setdefault("tags", []).append(f"{name!r}: {exc.message}")
                else:
                    row.tags.setdefault(key_of(display), display)
            return
        if len(text) > LIMITS[target]:
            row.errors[target] = [f"Longer than maximum length {LIMITS[target]}."]
            return
        try:
            if target == "email":
                text = normalise_email(text)
            elif target == "phone":
                text = normalise_phone(text, region=self.region)
        except InvalidValue as exc:
            row.errors[target] = [str(exc)]
            return
        row.fields[target] = text

    @staticmethod
    def _typed(row: Row, definition: CustomFieldDefinition, text: str) -> Any:
        """The cell as the value the field's type takes (checked afterwards)."""
        if definition.type == BOOLEAN:
            if text.casefold() in _TRUE | _FALSE:
                return text.casefold() in _TRUE
            row.errors[f"custom_fields.{definition.key}"] = ["not true or false (or yes/no)"]
            return None
        if definition.type == MULTI_SELECT:
            return [value.strip() for value in text.split(";") if value.strip()]
        return text


# --- reading in other processes --------------------------------------------------------

_reader: Reader | None = None


def _adopt(reader: Reader, parent: int) -> None:
    global _reader
    _reader = reader
    threading.Thread(target=_follow, args=(parent,), daemon=True).start()


def _follow(parent: int) -> None:
    """End this process once its parent is gone (a worker killed mid-import), instead of
    waiting forever for batches that will never come."""
    while os.getppid() == parent:
        time.sleep(1)
    os._exit(1)


def _read_batch(batch: list[tuple[int, list[str]]]) -> list[Row]:
    rows = [_reader.read(number, cells) for number, cells in batch]
    for row in rows:
        row.cells = []  # the caller has them: not sent back
    return rows


def _with_cells(rows: list[Row], batch: list[tuple[int, list[str]]]) -> list[Row]:
    for row, (_, cells) in zip(rows, batch, strict=True):
        row.cells = cells
    return rows


def read_batches(
    reader: Reader, batches: Iterable[list[tuple[int, list[str]]]], *, processes: int
) -> Iterator[list[Row]]:
    """``batches`` of ``(row number, cells)`` read into rows, in order: by ``processes``
    other processes (none: here), while the caller works on the rows they gave.

    Reading is about half an import's work (a phone number takes ~30 µs to check), and
    it depends on nothing but the row, so it spreads over cores; matching and writing
    stay in the caller, in file order. At most ``processes + 1`` batches are out at once,
    so memory stays flat. The processes live as long as the iteration. They are spawned,
    not forked (a forked copy of a worker would share its connections), so the program's
    main module must import without side effects (``if __name__ == "__main__"``); one
    that dies breaks the iteration (``BrokenProcessPool``) rather than hanging it."""
    if processes < 1:
        for batch in batches:
            yield [reader.read(number, cells) for number, cells in batch]
        return
    context = multiprocessing.get_context("spawn")
    parent = os.getpid()  # not the child's getppid(): the parent may be gone by then
    with ProcessPoolExecutor(
        processes, context, initializer=_adopt, initargs=(reader, parent)
    ) as pool:
        pending: deque[tuple[list, Future]] = deque()
        try:
            for batch in batches:
                pending.append((batch, pool.submit(_read_batch, batch)))
                if len(pending) > processes:
                    sent, read = pending.popleft()
                    yield _with_cells(read.result(), sent)
            while pending:
                sent, read = pending.popleft()
                yield _with_cells(read.result(), sent)
        finally:
            for _, read in pending:  # the caller stopped early: drop what is queued
                read.cancel()


# --- matching --------------------------------------------------------------------------


@dataclass
class Target:
    """A contact rows go into: one that exists, or one this import creates."""

    id: uuid.UUID
    name: str | None
    email: str | None
    phone: str | None
    company: str | None
    custom_fields: dict[str, Any]
    #: Created by this import: the row that created it (not written yet, in a batch).
    row: int | None = None
    #: An existing contact whose fields rows changed.
    changed: bool = False
    #: Keys of the tags it has (existing contacts), and the tags rows add, by key.
    tag_keys: set[str] = field(default_factory=set)
    new_tags: dict[str, str] = field(default_factory=dict)

    @property
    def new(self) -> bool:
        return self.row is not None


@dataclass
class Outcome:
    row: Row
    action: str
    target: Target | None = None
    errors: dict[str, list[str]] = field(default_factory=dict)

    @property
    def duplicate(self) -> bool:
        """Whether the row matched a contact (an existing one, or an earlier row's)."""
        return self.target is not None and self.target.row != self.row.number

    @property
    def duplicate_of(self) -> uuid.UUID | None:
        """The contact the row matched, when it existed before the import."""
        if not self.duplicate or self.target.new:
            return None
        return self.target.id

    @property
    def duplicate_of_row(self) -> int | None:
        """The earlier row of the file that created the contact the row matched."""
        return self.target.row if self.duplicate else None


#: Finds the contacts (not deleted) with any of the emails or phones, with their tags.
Lookup = Callable[[list[str], list[str]], list[Target]]


def _any(values: list[Any], kind: Any) -> Any:
    """``= ANY(<one array parameter>)``: a short statement however many values (an
    ``IN`` list has a placeholder each, slower to render and parse than to look up)."""
    return any_(bindparam(None, values, type_=ARRAY(kind)))


def lookup(session: Session, *, lock: bool) -> Lookup:
    """A :data:`Lookup` on ``session``; ``lock``: the contacts found are locked until
    the transaction ends, so nobody changes them under the import."""

    def find(emails: list[str], phones: list[str]) -> list[Target]:
        with _custom_plans(session):
            return _find(session, emails, phones, lock=lock)

    return find


@contextmanager
def _custom_plans(session: Session) -> Iterator[None]:
    """Plan each statement meanwhile for its values. psycopg prepares a statement run five
    times, and PostgreSQL may then keep a generic plan made while the table was small: a
    sequential scan, locking as it goes, repeated on every batch of a growing import. Only
    meanwhile: the foreign key checks of the batch's writes, thousands of them, would be
    planned each time too (that tripled the time of writing the tags)."""
    setting = "plan_cache_mode"
    before = session.scalar(select(func.current_setting(setting)))
    session.execute(select(func.set_config(setting, "force_custom_plan", True)))
    yield
    session.execute(select(func.set_config(setting, before, True)))


def _find(session: Session, emails: list[str], phones: list[str], *, lock: bool) -> list[Target]:
    query = select(
        Contact.id,
        Contact.name,
        Contact.email,
        Contact.phone,
        Contact.company,
        Contact.custom_fields,
    ).where(
        Contact.deleted_at.is_(None),
        or_(Contact.email == _any(emails, String), Contact.phone == _any(phones, String)),
    )
    if lock:
        query = query.with_for_update(of=Contact)
    found = {row.id: Target(*row) for row in session.execute(query)}
    if found:
        tagged = select(ContactTag.contact_id, Tag.key).join(Tag, Tag.id == ContactTag.tag_id)
        for contact_id, key in session.execute(
            tagged.where(ContactTag.contact_id == _any(list(found), Uuid))
        ):
            found[contact_id].tag_keys.add(key)
    return list(found.values())


class Planner:
    """Decides each row's outcome under ``policy``, remembering the contacts earlier rows
    matched or create until :meth:`forget` (once they are written, the database tells)."""

    def __init__(self, reader: Reader, *, policy: str) -> None:
        self.reader = reader
        self.policy = policy
        self.forget()

    def forget(self) -> None:
        self._by: dict[str, dict[str, Target | None]] = {"email": {}, "phone": {}}
        self._known: set[uuid.UUID] = set()

    def plan(self, rows: list[Row], find: Lookup) -> list[Outcome]:
        wanted = {
            key: sorted(
                {r.fields[key] for r in rows if key in r.fields and not r.errors}
                - self._by[key].keys()
            )
            for key in ("email", "phone")
        }
        if wanted["email"] or wanted["phone"]:
            for target in find(wanted["email"], wanted["phone"]):
                if target.id not in self._known:
                    self._known.add(target.id)
                    for key in ("email", "phone"):
                        value = getattr(target, key)
                        if value is not None:
                            self._by[key].setdefault(value, target)
        return [self._outcome(row) for row in rows]

    def _holder(self, key: str, value: str | None) -> Target | None:
        return self._by[key].get(value) if value else None

    def _take(self, target: Target, key: str, value: str | None) -> None:
        """``target`` now holds ``value`` as its ``key`` (and no longer its old one)."""
        old = getattr(target, key)
        if old is not None and self._by[key].get(old) is target:
            self._by[key][old] = None
        setattr(target, key, value)
        if value is not None:
            self._by[key][value] = target

    def _outcome(self, row: Row) -> Outcome:
        if row.errors:
            return Outcome(row, FAIL, errors=row.errors)
        fields = row.fields
        holders = {
            "email": self._holder("email", fields.get("email")),
            "phone": self._holder("phone", fields.get("phone")),
        }
        matched = {t.id: t for t in holders.values() if t is not None}
        if len(matched) > 1:
            if self.policy == SKIP:
                return Outcome(row, SKIP, holders["email"])
            message = "belongs to another contact than the email does"
            return Outcome(row, FAIL, holders["email"], {"phone": [message]})
        if not matched:
            return self._create(row)
        (target,) = matched.values()
        if self.policy == SKIP:
            return Outcome(row, SKIP, target)
        if self.policy == CREATE:
            taken = {
                key: ["already used by another contact"]
                for key, holder in holders.items()
                if holder is target
            }
            return Outcome(row, FAIL, target, taken)
        return self._update(row, target)

    def _create(self, row: Row) -> Outcome:
        errors: dict[str, list[str]] = {}
        if "name" not in row.fields:
            errors["name"] = ["required to create a contact"]
        try:
            custom = self.reader.checked(current={}, changes=row.custom, require=True)
        except CustomFieldError as exc:
            errors.update(exc.errors)
        if errors:
            return Outcome(row, FAIL, errors=errors)
        target = Target(
            uuid.uuid4(),
            row.fields["name"],
            None,
            None,
            row.fields.get("company"),
            custom,
            row=row.number,
            new_tags=dict(row.tags),
        )
        for key in ("email", "phone"):
            self._take(target, key, row.fields.get(key))
        return Outcome(row, CREATE, target)

    def _update(self, row: Row, target: Target) -> Outcome:
        assert self.policy == UPDATE
        changes = {k: v for k, v in row.fields.items() if getattr(target, k) != v}
        if row.custom:
            try:
                custom = self.reader.checked(
                    current=target.custom_fields, changes=row.custom, require=True
                )
            except CustomFieldError as exc:
                return Outcome(row, FAIL, target, exc.errors)
            if custom != target.custom_fields:
                changes["custom_fields"] = custom
        tags = {
            key: name
            for key, name in row.tags.items()
            if key not in target.tag_keys and key not in target.new_tags
        }
        if not changes and not tags:
            return Outcome(row, SKIP, target)
        for key, value in changes.items():
            if key in ("email", "phone"):
                self._take(target, key, value)
            else:
                setattr(target, key, value)
        target.new_tags.update(tags)
        target.changed = target.changed or (bool(changes) and not target.new)
        return Outcome(row, UPDATE, target)


def planned(outcomes: Iterable[Outcome]) -> list[Target]:
    """The targets the outcomes write (created, changed or tagged), each once."""
    targets: dict[uuid.UUID, Target] = {}
    for outcome in outcomes:
        target = outcome.target
        if outcome.action in (CREATE, UPDATE) and target is not None:
            targets.setdefault(target.id, target)
    return list(targets.values())
