"""Contacts of the current account."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import NoReturn

import marshmallow as ma
from flask import g
from flask.views import MethodView
from sqlalchemy import ColumnElement, select

from api.auth import acting, deny, requires, tenant_blueprint
from api.base import Schema
from api.custom_fields import listing_fields, values_in, values_out
from api.errors import fail
from api.listing import ORDERED_OPS, Field, ListArgs, Listing, page_schema, paginate
from crm.contact_tags import tag_names
from crm.merging import MergeRefused, merge_contacts
from crm.models import Contact
from crm.normalise import InvalidValue, account_region, normalise_email, normalise_phone
from crm.retention import (
    NotRestorable,
    deleted_contacts,
    find_contact,
    restorable_until,
    restore_contact,
    retention_days,
)
from crm.search import search_condition
from crm.segments.service import SegmentBroken, contacts_in
from crm.service import (
    ContactConflict,
    InvalidContact,
    create_contact,
    delete_contact,
    find_duplicates,
    get_contact,
    update_contact,
)
from tenants.db import db

blp = tenant_blueprint("contacts", __name__, "/contacts", description="Contacts (CRM)")


def valid_email(value: str) -> None:
    try:
        normalise_email(value)
    except InvalidValue as exc:
        raise ma.ValidationError(str(exc)) from exc


def valid_phone(value: str) -> None:
    """Read as the service will (so every bad field is named in one answer)."""
    try:
        normalise_phone(value, region=account_region(db.session))
    except InvalidValue as exc:
        raise ma.ValidationError(str(exc)) from exc


LISTING = Listing(
    fields={
        "name": Field(Contact.name),
        "email": Field(Contact.email),
        "phone": Field(Contact.phone),
        "company": Field(Contact.company),
        "created_at": Field(Contact.created_at, datetime, ORDERED_OPS),
        "updated_at": Field(Contact.updated_at, datetime, ORDERED_OPS),
        "id": Field(Contact.id, uuid.UUID, ("eq", "ne", "in"), sortable=False),
    },
    tiebreak=Contact.id,
)


def contact_listing() -> Listing:
    """The contact list's fields with the account's custom fields: what every selection
    of contacts (the list, an export, bulk tagging, a segment) filters and sorts on."""
    return LISTING.with_fields(listing_fields("contact", Contact.custom_fields))


def broken_segment(exc: SegmentBroken) -> NoReturn:
    problem = exc.problem
    fail(
        409,
        "segment_invalid",
        f"The segment's condition no longer compiles: {problem.message}",
        errors={problem.at: [problem.message]},
    )


def in_segment(segment_id: uuid.UUID, field: str) -> ColumnElement[bool]:
    """The contacts of the account's segment ``segment_id``, for narrowing a selection:
    422 naming ``field`` when the account has no such segment (another account's id is
    just as unknown), 409 ``segment_invalid`` when its condition no longer compiles."""
    try:
        clause = contacts_in(db.session, segment_id)
    except SegmentBroken as exc:
        broken_segment(exc)
    if clause is None:
        fail(422, "validation_failed", "No such segment.", errors={field: ["no such segment"]})
    return clause


def searched(q: str | None) -> ColumnElement[bool] | None:
    """The contacts the search text ``q`` finds (rules in :mod:`crm.search`), phones typed
    with a trunk 0 read in the account's country; None when ``q`` has no words."""
    if not (q or "").strip():
        return None
    return search_condition(q, region=account_region(db.session))


Q_HELP = (
    "Free-text search, as typed in a search box: every word must be found (ignoring case) "
    "in the name, email or company, or, for a word written like a phone number (at least "
    "3 digits; spaces, dots, dashes, brackets ignored), in the phone by its digits: a "
    "leading `+` or `00` means the country code follows (the phone starts so), a trunk `0` "
    "a number of the account's country (its locale's region). A whole text written like a "
    "phone number (`+1 (415) 555-0123`) is also read as one number. `%` and `_` match "
    "themselves. Combines with `filter`, `segment`, `sort` and paging"
)


def search_arg() -> ma.fields.String:
    return ma.fields.String(
        validate=ma.validate.Length(max=200),
        metadata={"description": Q_HELP, "example": "ada engines"},
    )


SEGMENT_HELP = (
    "Only the contacts of this segment (GET …/segments), on top of the filters; 422 when "
    "the account has no such segment, 409 `segment_invalid` when its condition no longer "
    "compiles"
)


class ContactIn(Schema):
    name = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=200))
    email = ma.fields.String(
        allow_none=True,
        validate=[ma.validate.Length(max=320), valid_email],
        metadata={"description": "Stored lower-cased", "example": "grace@navy.example"},
    )
    phone = ma.fields.String(
        allow_none=True,
        validate=[ma.validate.Length(max=40), valid_phone],
        metadata={
            "description": "Stored in E.164; without + and a country code it is read as a "
            "number of the account's country (its locale's region, e.g. en-GB)",
            "example": "+1 (415) 555-0123",
        },
    )
    company = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=200))
    custom_fields = values_in("contact")


class ContactOut(Schema):
    id = ma.fields.UUID(required=True)
    name = ma.fields.String(required=True)
    email = ma.fields.String(allow_none=True)
    phone = ma.fields.String(allow_none=True)
    company = ma.fields.String(allow_none=True)
    custom_fields = values_out()
    created_at = ma.fields.AwareDateTime(required=True)
    updated_at = ma.fields.AwareDateTime(required=True)
    deleted_at = ma.fields.AwareDateTime(
        allow_none=True, metadata={"description": "Set in `?deleted=true` lists only"}
    )
    restorable_until = ma.fields.Method(
        "_restorable_until",
        metadata={"type": "string", "format": "date-time", "nullable": True},
    )

    def _restorable_until(self, contact):
        if getattr(contact, "deleted_at", None) is None:
            return None
        until = restorable_until(contact, retention_days=retention_days())
        return until.isoformat()


ContactPage = page_schema(ContactOut, "ContactPage")


class TaggedContactOut(ContactOut):
    tags = ma.fields.List(
        ma.fields.String(),
        required=True,
        metadata={"description": "The contact's tag names, sorted ignoring case"},
    )


TaggedContactPage = page_schema(TaggedContactOut, "TaggedContactPage")


class _Tagged:
    """A contact with its tag names, as :class:`TaggedContactOut` reads it (the contact
    itself stays a plain ORM object: the names are not something to save)."""

    __slots__ = ("_contact", "tags")

    def __init__(self, contact: Contact, tags: list[str]) -> None:
        self._contact = contact
        self.tags = tags

    def __getattr__(self, name: str):
        return getattr(self._contact, name)


def with_tags(contacts: list[Contact]) -> list[_Tagged]:
    """``contacts`` with their tag names, read for all of them in one query."""
    names = tag_names(db.session, [contact.id for contact in contacts])
    return [_Tagged(contact, names[contact.id]) for contact in contacts]


class ContactListArgs(ListArgs):
    q = search_arg()
    segment = ma.fields.UUID(metadata={"description": SEGMENT_HELP})
    deleted = ma.fields.Boolean(
        load_default=False,
        metadata={
            "description": "List the contacts deleted within the retention period instead "
            "(to restore one); needs `contacts:delete`"
        },
    )


class ContactMergeIn(Schema):
    source_id = ma.fields.UUID(
        required=True, metadata={"description": "The contact merged into this one, then deleted"}
    )


class DuplicateArgs(Schema):
    email = ma.fields.String(validate=ma.validate.Length(max=320))
    phone = ma.fields.String(validate=ma.validate.Length(max=40))
    exclude = ma.fields.UUID(metadata={"description": "The contact being edited, left out"})


class DuplicateOut(Schema):
    contact = ma.fields.Nested(ContactOut, required=True)
    matched_on = ma.fields.List(
        ma.fields.String(), required=True, metadata={"example": ["email", "phone"]}
    )


class DuplicatesOut(Schema):
    items = ma.fields.List(ma.fields.Nested(DuplicateOut), required=True)


def _conflict(exc: ContactConflict):
    fail(
        409,
        f"contact_{exc.field}_taken",
        f"Another contact already has this {exc.field}.",
        errors={exc.field: ["already used by another contact"]},
        extra={"duplicate_of": str(exc.duplicate_of)} if exc.duplicate_of else None,
    )


def _invalid(exc: InvalidContact):
    fail(422, "validation_failed", "The request has invalid fields.", errors=exc.errors)


def _contact_or_404(contact_id: uuid.UUID) -> Contact:
    """The contact; 404 ``contact_not_found`` when missing or deleted. A contact merged
    into another adds ``merged_into`` (the target's id) to the 404's ``extra``."""
    contact = get_contact(db.session, contact_id)
    if contact is None:
        gone = db.session.get(Contact, contact_id)
        merged_into = gone.merged_into_id if gone is not None else None
        extra = {"merged_into": str(merged_into)} if merged_into else None
        fail(404, "contact_not_found", "No such contact.", extra=extra)
    return contact


@blp.route("")
class Contacts(MethodView):
    @blp.arguments(ContactListArgs, location="query")
    @blp.response(200, TaggedContactPage)
    @blp.errors(400, 409)
    @requires("contacts:read")
    def get(self, args):
        """List contacts with filters, sorting and pagination

        Custom fields filter and sort as `custom_fields.<key>`
        (`filter=custom_fields.plan:eq:pro`, `sort=-custom_fields.seats`); `segment`
        narrows to a segment's contacts; `q` searches as a person types (every word in
        the name, email, company or, by its digits, the phone). Each contact carries its
        `tags`. Deleted contacts are left out; `deleted=true` lists only those deleted
        within the retention period, with `deleted_at` and `restorable_until` (needs
        `contacts:delete`).
        """
        if args.pop("deleted"):
            if "contacts:delete" not in g.permissions:
                deny("contacts:delete")
            query = deleted_contacts(retention_days=retention_days())
        else:
            query = select(Contact).where(Contact.deleted_at.is_(None))
        segment_id = args.pop("segment", None)
        if segment_id is not None:
            query = query.where(in_segment(segment_id, "segment"))
        if (found := searched(args.pop("q", None))) is not None:
            query = query.where(found)
        page = paginate(db.session, query, contact_listing(), args)
        return {**page, "items": with_tags(page["items"])}

    @blp.arguments(ContactIn)
    @blp.response(201, ContactOut)
    @blp.errors(409)
    @requires("contacts:write")
    def post(self, data):
        """Create a contact"""
        try:
            contact = create_contact(db.session, **acting(), require_fields=True, **data)
        except ContactConflict as exc:
            _conflict(exc)
        except InvalidContact as exc:
            _invalid(exc)
        db.session.commit()
        return contact


@blp.route("/duplicates")
class ContactDuplicates(MethodView):
    @blp.arguments(DuplicateArgs, location="query")
    @blp.response(200, DuplicatesOut)
    @requires("contacts:read")
    def get(self, args):
        """Contacts that already have this email or phone (typed in any format)

        For a form to warn before saving: the values are normalised as a save would, so
        `+1 (415) 555-0123` finds the contact stored as `+14155550123`. Without either
        value the list is empty; one that cannot be read answers 422 naming it.
        """
        try:
            return {"items": find_duplicates(db.session, **args)}
        except InvalidContact as exc:
            _invalid(exc)


@blp.route("/<uuid:contact_id>")
class ContactById(MethodView):
    @blp.response(200, TaggedContactOut)
    @requires("contacts:read")
    def get(self, contact_id):
        """Read one contact, with its tag names"""
        return with_tags([_contact_or_404(contact_id)])[0]

    @blp.arguments(ContactIn(partial=True))
    @blp.response(200, ContactOut)
    @blp.errors(409)
    @requires("contacts:write")
    def patch(self, data, contact_id):
        """Change some fields of a contact"""
        contact = _contact_or_404(contact_id)
        try:
            update_contact(db.session, contact, **acting(), **data)
        except ContactConflict as exc:
            _conflict(exc)
        except InvalidContact as exc:
            _invalid(exc)
        db.session.commit()
        return contact

    @blp.response(204)
    @requires("contacts:delete")
    def delete(self, contact_id):
        """Delete a contact

        A soft delete: the contact disappears from lists and look-ups (404), its email
        and phone are free for others, and `POST …/restore` brings it back within the
        retention period (`TURUMBA_CONTACT_RETENTION_DAYS`); the workers purge it after.
        """
        delete_contact(db.session, _contact_or_404(contact_id), **acting())
        db.session.commit()


@blp.route("/<uuid:contact_id>/restore")
class ContactRestore(MethodView):
    @blp.response(200, ContactOut)
    @blp.errors(409)
    @requires("contacts:delete")
    def post(self, contact_id):
        """Restore a deleted contact

        Within the retention period only (else 404 `contact_not_found`). Refused with
        409: `contact_not_deleted`; `contact_merged` (with `merged_into`), as a merged
        contact lives on in its target; `contact_email_taken` / `contact_phone_taken` with
        `duplicate_of` when another contact took its email or phone meanwhile.
        """
        contact = find_contact(db.session, contact_id, retention_days=retention_days())
        if contact is None:
            fail(404, "contact_not_found", "No such contact.")
        try:
            restore_contact(db.session, contact, **acting())
        except NotRestorable as exc:
            extra = {"merged_into": str(exc.merged_into)} if exc.merged_into else None
            fail(409, exc.code, exc.message, extra=extra)
        except ContactConflict as exc:
            _conflict(exc)
        db.session.commit()
        return contact


@blp.route("/<uuid:contact_id>/merge")
class ContactMerge(MethodView):
    @blp.arguments(ContactMergeIn)
    @blp.response(200, ContactOut)
    @blp.errors(404, 409)
    @requires("contacts:write")
    def post(self, data, contact_id):
        """Merge another contact into this one

        This contact (the target) keeps its id and name, and takes over the source's
        conversations, the messages it sent and its tags (the union). Its empty email,
        phone and company are filled from the source; custom fields merge key by key,
        this contact's non-empty values winning. The source is then deleted with
        `merged_into_id` pointing here: reading it answers 404 `contact_not_found` with
        `merged_into`, and it cannot be restored. Needs `contacts:write` and
        `contacts:delete`. Refused: `contact_merge_into_self` (409); a source that does
        not exist here or was deleted, 404 `contact_not_found` naming `source_id`.
        """
        if "contacts:delete" not in g.permissions:
            deny("contacts:delete")
        target = _contact_or_404(contact_id)
        try:
            merge_contacts(db.session, target, **acting(), **data)
        except MergeRefused as exc:
            status = 404 if exc.code == "contact_not_found" else 409
            errors = {exc.field: [exc.message]} if exc.field else None
            fail(status, exc.code, exc.message, errors=errors)
        db.session.commit()
        return target
