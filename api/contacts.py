"""Contacts of the current account."""

from __future__ import annotations

import uuid
from datetime import datetime

import marshmallow as ma
from flask.views import MethodView
from sqlalchemy import select

from api.auth import acting, requires, tenant_blueprint
from api.base import Schema
from api.errors import fail
from api.listing import ORDERED_OPS, Field, ListArgs, Listing, page_schema, paginate
from crm.models import Contact
from crm.service import (
    ContactConflict,
    create_contact,
    delete_contact,
    get_contact,
    update_contact,
)
from tenants.db import db

blp = tenant_blueprint("contacts", __name__, "/contacts", description="Contacts (CRM)")

PHONE = ma.validate.Regexp(r"^\+?[0-9][0-9 ().\-]{2,39}$", error="not a phone number")

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
    email = ma.fields.Email(allow_none=True, validate=ma.validate.Length(max=320))
    phone = ma.fields.String(allow_none=True, validate=PHONE)
    company = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=200))


class ContactOut(Schema):
    id = ma.fields.UUID(required=True)
    name = ma.fields.String(required=True)
    email = ma.fields.String(allow_none=True)
    phone = ma.fields.String(allow_none=True)
    company = ma.fields.String(allow_none=True)
    created_at = ma.fields.AwareDateTime(required=True)
    updated_at = ma.fields.AwareDateTime(required=True)


ContactPage = page_schema(ContactOut, "ContactPage")


def _conflict(exc: ContactConflict):
    fail(
        409,
        f"contact_{exc.field}_taken",
        f"Another contact already has this {exc.field}.",
        errors={exc.field: ["already used by another contact"]},
    )


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
        """List contacts with filters, sorting and pagination"""
        return paginate(db.session, select(Contact), LISTING, args)

    @blp.arguments(ContactIn)
    @blp.response(201, ContactOut)
    @blp.errors(409)
    @requires("contacts:write")
    def post(self, data):
        """Create a contact"""
        try:
            contact = create_contact(db.session, **acting(), **data)
        except ContactConflict as exc:
            _conflict(exc)
        db.session.commit()
        return contact


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
        db.session.commit()
        return contact

    @blp.response(204)
    @requires("contacts:delete")
    def delete(self, contact_id):
        """Delete a contact"""
        delete_contact(db.session, _contact_or_404(contact_id), **acting())
        db.session.commit()
