"""Canned responses and message templates of the current account, and template previews."""

from __future__ import annotations

import uuid
from datetime import datetime

import marshmallow as ma
from flask import g
from flask.views import MethodView
from sqlalchemy import select

from api.auth import audit_change, requires, tenant_blueprint
from api.base import Schema
from api.errors import fail
from api.helpdesk_errors import refusals_answered
from api.listing import ORDERED_OPS, TEXT_OPS, Field, ListArgs, Listing, page_schema, paginate
from audit.service import snapshot
from helpdesk.replies import (
    VARIABLES,
    CannedResponse,
    Template,
    create_canned_response,
    create_template,
    delete_row,
    get_canned_response,
    get_template,
    preview_context,
    render,
    render_template,
    update_canned_response,
    update_template,
)
from tenants.db import db

blp = tenant_blueprint(
    "replies", __name__, "", description="Canned responses and message templates"
)

BODY_HELP = f"Jinja2 template; variables: {', '.join(VARIABLES)}"
SHORT_CODE = ma.validate.Regexp(r"^[A-Za-z0-9_.-]{1,64}$", error="letters, digits, _ . - only")

CANNED_LISTING = Listing(
    fields={
        "short_code": Field(CannedResponse.short_code, str, TEXT_OPS),
        "title": Field(CannedResponse.title, str, TEXT_OPS),
        "created_at": Field(CannedResponse.created_at, datetime, ORDERED_OPS),
    },
    default_sort="short_code",
    tiebreak=CannedResponse.id,
)
TEMPLATE_LISTING = Listing(
    fields={
        "name": Field(Template.name, str, TEXT_OPS),
        "created_at": Field(Template.created_at, datetime, ORDERED_OPS),
    },
    default_sort="name",
    tiebreak=Template.id,
)


class CannedIn(Schema):
    short_code = ma.fields.String(required=True, validate=SHORT_CODE)
    title = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=200))
    body = ma.fields.String(
        required=True,
        validate=ma.validate.Length(min=1, max=20_000),
        metadata={"description": BODY_HELP},
    )


class CannedPatch(Schema):
    short_code = ma.fields.String(validate=SHORT_CODE)
    title = ma.fields.String(validate=ma.validate.Length(min=1, max=200))
    body = ma.fields.String(
        validate=ma.validate.Length(min=1, max=20_000), metadata={"description": BODY_HELP}
    )


class CannedOut(Schema):
    id = ma.fields.UUID(required=True)
    short_code = ma.fields.String(required=True)
    title = ma.fields.String(required=True)
    body = ma.fields.String(required=True)
    created_at = ma.fields.AwareDateTime(required=True)
    updated_at = ma.fields.AwareDateTime(required=True)


CannedPage = page_schema(CannedOut, "CannedResponsePage")


class TemplateIn(Schema):
    name = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=200))
    subject = ma.fields.String(
        allow_none=True, validate=ma.validate.Length(max=500), metadata={"description": BODY_HELP}
    )
    body = ma.fields.String(
        required=True,
        validate=ma.validate.Length(min=1, max=100_000),
        metadata={"description": BODY_HELP},
    )


class TemplatePatch(Schema):
    name = ma.fields.String(validate=ma.validate.Length(min=1, max=200))
    subject = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=500))
    body = ma.fields.String(validate=ma.validate.Length(min=1, max=100_000))


class TemplateOut(Schema):
    id = ma.fields.UUID(required=True)
    name = ma.fields.String(required=True)
    subject = ma.fields.String(allow_none=True)
    body = ma.fields.String(required=True)
    variables = ma.fields.List(ma.fields.String(), required=True)
    created_at = ma.fields.AwareDateTime(required=True)
    updated_at = ma.fields.AwareDateTime(required=True)


TemplatePage = page_schema(TemplateOut, "TemplatePage")


class PreviewIn(Schema):
    conversation_id = ma.fields.UUID(
        allow_none=True,
        metadata={"description": "Render with this conversation's data; sample values if absent"},
    )


class PreviewOut(Schema):
    subject = ma.fields.String(allow_none=True)
    body = ma.fields.String(required=True)


class CannedPreviewOut(Schema):
    body = ma.fields.String(required=True)


def _canned_or_404(canned_id: uuid.UUID) -> CannedResponse:
    canned = get_canned_response(db.session, canned_id)
    if canned is None:
        fail(404, "canned_response_not_found", "No such canned response.")
    return canned


def _template_or_404(template_id: uuid.UUID) -> Template:
    template = get_template(db.session, template_id)
    if template is None:
        fail(404, "template_not_found", "No such template.")
    return template


@blp.route("/canned-responses")
class CannedResponses(MethodView):
    @blp.arguments(ListArgs, location="query")
    @blp.response(200, CannedPage)
    @blp.errors(400)
    @requires("conversations:read")
    def get(self, args):
        """List canned responses (filter=short_code:startswith:… searches by short code)"""
        return paginate(db.session, select(CannedResponse), CANNED_LISTING, args)

    @blp.arguments(CannedIn)
    @blp.response(201, CannedOut)
    @blp.errors(409)
    @requires("replies:manage")
    def post(self, data):
        """Create a canned response"""
        with refusals_answered():
            canned = create_canned_response(db.session, **data)
        audit_change("canned_response", "created", canned.id, after=snapshot(canned))
        db.session.commit()
        return canned


@blp.route("/canned-responses/<uuid:canned_id>")
class CannedResponseById(MethodView):
    @blp.response(200, CannedOut)
    @requires("conversations:read")
    def get(self, canned_id):
        """Read one canned response"""
        return _canned_or_404(canned_id)

    @blp.arguments(CannedPatch)
    @blp.response(200, CannedOut)
    @blp.errors(409)
    @requires("replies:manage")
    def patch(self, data, canned_id):
        """Change a canned response"""
        canned = _canned_or_404(canned_id)
        before = snapshot(canned)
        with refusals_answered():
            update_canned_response(db.session, canned, **data)
        audit_change("canned_response", "updated", canned.id, before=before, after=snapshot(canned))
        db.session.commit()
        return canned

    @blp.response(204)
    @requires("replies:manage")
    def delete(self, canned_id):
        """Delete a canned response"""
        canned = _canned_or_404(canned_id)
        before = snapshot(canned)
        delete_row(db.session, canned)
        audit_change("canned_response", "deleted", canned_id, before=before)
        db.session.commit()


@blp.route("/templates")
class Templates(MethodView):
    @blp.arguments(ListArgs, location="query")
    @blp.response(200, TemplatePage)
    @blp.errors(400)
    @requires("conversations:read")
    def get(self, args):
        """List message templates"""
        return paginate(db.session, select(Template), TEMPLATE_LISTING, args)

    @blp.arguments(TemplateIn)
    @blp.response(201, TemplateOut)
    @blp.errors(409)
    @requires("replies:manage")
    def post(self, data):
        """Create a message template"""
        with refusals_answered():
            template = create_template(db.session, **data)
        audit_change("template", "created", template.id, after=snapshot(template))
        db.session.commit()
        return template


@blp.route("/templates/<uuid:template_id>")
class TemplateById(MethodView):
    @blp.response(200, TemplateOut)
    @requires("conversations:read")
    def get(self, template_id):
        """Read one message template"""
        return _template_or_404(template_id)

    @blp.arguments(TemplatePatch)
    @blp.response(200, TemplateOut)
    @blp.errors(409)
    @requires("replies:manage")
    def patch(self, data, template_id):
        """Change a message template"""
        template = _template_or_404(template_id)
        before = snapshot(template)
        with refusals_answered():
            update_template(db.session, template, **data)
        audit_change("template", "updated", template.id, before=before, after=snapshot(template))
        db.session.commit()
        return template

    @blp.response(204)
    @requires("replies:manage")
    def delete(self, template_id):
        """Delete a message template"""
        template = _template_or_404(template_id)
        before = snapshot(template)
        delete_row(db.session, template)
        audit_change("template", "deleted", template_id, before=before)
        db.session.commit()


def _preview_context(data: dict) -> dict:
    return preview_context(
        db.session,
        account_name=g.account.name,
        caller_id=g.get("user_id"),
        conversation_id=data.get("conversation_id"),
    )


@blp.route("/templates/<uuid:template_id>/preview")
class TemplatePreview(MethodView):
    @blp.arguments(PreviewIn)
    @blp.response(200, PreviewOut)
    @requires("conversations:read")
    def post(self, data, template_id):
        """Render a template with a conversation's data, or with sample values"""
        template = _template_or_404(template_id)
        with refusals_answered():
            return render_template(template, _preview_context(data))


@blp.route("/canned-responses/<uuid:canned_id>/preview")
class CannedPreview(MethodView):
    @blp.arguments(PreviewIn)
    @blp.response(200, CannedPreviewOut)
    @requires("conversations:read")
    def post(self, data, canned_id):
        """Render a canned response with a conversation's data, or with sample values

        What the composer inserts: the body with its variables filled in
        (`{{ contact.name }}`, `{{ agent.name }}`, …), as a reply would be sent."""
        canned = _canned_or_404(canned_id)
        with refusals_answered():
            return {"body": render(canned.body, _preview_context(data))}
