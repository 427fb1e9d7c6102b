"""Contacts of the current account."""

from __future__ import annotations

import uuid
from datetime import datetime

import marshmallow as ma
from flask.views import MethodView
from sqlalchemy import select

from api.auth import acting, requires, tenant_blueprint
from api.base import Schema
from api.custom_fields import listing_fields, values_in, values_out
from api.errors import fail
from api.listing import ORDERED_OPS, Field, ListArgs, Listing, page_schema, paginate
from crm.models import Contact
from crm.normalise import InvalidValue, account_region, normalise_email, normalise_phone
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


ContactPage = page_schema(ContactOut, "ContactPage")


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
    contact = get_contact(db.session, contact_id)
    if contact is None:
        fail(404, "contact_not_found", "No such contact.")
    return contact


@blp.route("")
class Contacts(MethodView):
    @blp.arguments(ListArgs, location="query")
    @blp.response(200, ContactPage)
    @blp.errors(400)
    @requires("contacts:read")
    def get(self, args):
        """List contacts with filters, sorting and pagination

        Custom fields filter and sort as `custom_fields.<key>`
        (`filter=custom_fields.plan:eq:pro`, `sort=-custom_fields.seats`).
        """
        listing = LISTING.with_fields(listing_fields("contact", Contact.custom_fields))
        return paginate(db.session, select(Contact), listing, args)

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
    @blp.response(200, ContactOut)
    @requires("contacts:read")
    def get(self, contact_id):
        """Read one contact"""
        return _contact_or_404(contact_id)

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
        """Delete a contact"""
        delete_contact(db.session, _contact_or_404(contact_id), **acting())
        db.session.commit()
