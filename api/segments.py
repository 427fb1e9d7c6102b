"""Segments of the current account: saved contact filters (rules in :mod:`crm.segments`)."""

from __future__ import annotations

import marshmallow as ma
from flask.views import MethodView

from api.auth import acting, requires, tenant_blueprint
from api.base import Schema
from api.contacts import ContactOut, ContactPage, broken_segment, contact_listing
from api.errors import fail
from api.helpdesk_errors import refusals_answered
from api.listing import MAX_PER_PAGE, ListArgs, paginate
from crm.segments.models import Segment
from crm.segments.service import (
    SegmentBroken,
    SegmentInUse,
    contacts_matching,
    counted,
    create_segment,
    delete_segment,
    get_segment,
    list_segments,
    members,
    update_segment,
)
from tenants.db import db

blp = tenant_blueprint(
    "segments", __name__, "/segments", description="Segments: saved contact filters"
)

CONDITION_HELP = (
    "A JSONLogic document over the contact's fields as automation conditions read them "
    "(GET …/automation/fields: `contact.name`, `contact.tags`, `contact.created_at`, "
    "`contact.custom_fields.<key>`…), compiled to SQL. `true` holds for every contact. "
    "A construct SQL cannot answer exactly as the evaluator would is a 422 naming it"
)


class SegmentIn(Schema):
    name = ma.fields.String(
        required=True,
        validate=ma.validate.Length(min=1, max=200),
        metadata={"description": "Unique in the account, ignoring case", "example": "VIPs"},
    )
    description = ma.fields.String(validate=ma.validate.Length(max=2000))
    condition = ma.fields.Raw(
        required=True,
        allow_none=False,
        metadata={
            "description": CONDITION_HELP,
            "example": {"in": ["vip", {"var": "contact.tags"}]},
        },
    )


class ProblemOut(Schema):
    at = ma.fields.String(
        required=True, metadata={"description": "JSON pointer into the segment: condition/…"}
    )
    message = ma.fields.String(required=True)


class SegmentOut(Schema):
    id = ma.fields.UUID(required=True)
    name = ma.fields.String(required=True)
    description = ma.fields.String(required=True)
    condition = ma.fields.Raw(required=True)
    contact_count = ma.fields.Integer(
        allow_none=True,
        metadata={"description": "Live contacts in it now; null when `problem` is set"},
    )
    problem = ma.fields.Nested(
        ProblemOut,
        allow_none=True,
        metadata={
            "description": "Why the condition no longer compiles (a custom field it reads "
            "changed type since): it lists nothing until changed"
        },
    )
    created_by = ma.fields.UUID(allow_none=True)
    updated_by = ma.fields.UUID(allow_none=True)
    created_at = ma.fields.AwareDateTime(required=True)
    updated_at = ma.fields.AwareDateTime(required=True)

    @ma.pre_dump
    def _flat(self, counted_segment, **kwargs) -> dict:
        segment = counted_segment.segment
        columns = {column.key: getattr(segment, column.key) for column in Segment.__table__.c}
        return {
            **columns,
            "contact_count": counted_segment.contact_count,
            "problem": counted_segment.problem,
        }


class SegmentList(Schema):
    items = ma.fields.List(ma.fields.Nested(SegmentOut), required=True)


class SegmentPreviewIn(Schema):
    condition = ma.fields.Raw(
        required=True, allow_none=False, metadata={"description": CONDITION_HELP}
    )
    per_page = ma.fields.Integer(
        load_default=25,
        validate=ma.validate.Range(min=1, max=MAX_PER_PAGE),
        metadata={"description": "How many contacts of the first page"},
    )
    sort = ma.fields.String(
        load_default=None,
        metadata={"description": "As the contact list's `sort` (default `-created_at`)"},
    )


class SegmentPreviewOut(Schema):
    count = ma.fields.Integer(
        required=True, metadata={"description": "Live contacts the condition holds for"}
    )
    items = ma.fields.List(
        ma.fields.Nested(ContactOut),
        required=True,
        metadata={"description": "The first page of them"},
    )


def _segment_or_404(segment_id) -> Segment:
    segment = get_segment(db.session, segment_id)
    if segment is None:
        fail(404, "segment_not_found", "No such segment.")
    return segment


def _counted(segment: Segment):
    return counted(db.session, [segment])[0]


@blp.route("")
class Segments(MethodView):
    @blp.response(200, SegmentList)
    @requires("contacts:read")
    def get(self):
        """List the segments, by name, each with its contact count

        The counts come from one scan of the account's contacts (every segment's
        condition at once). A segment whose condition no longer compiles has
        `contact_count` null and says why in `problem`.
        """
        return {"items": counted(db.session, list_segments(db.session))}

    @blp.arguments(SegmentIn)
    @blp.response(201, SegmentOut)
    @blp.errors(409)
    @requires("segments:manage")
    def post(self, data):
        """Save a segment (audited)

        The condition is checked as it is saved: it must be valid JSONLogic, read only
        the contact's fields (`contact.*`, custom fields that exist) and compile to SQL
        that answers exactly as the automation evaluator would; else 422
        `validation_failed` whose `errors` key points into it (`condition/and/1/==/0`).
        A name already used (ignoring case) is 409 `segment_name_taken`; an account has
        at most 100 segments (422 naming `name`).
        """
        with refusals_answered():
            segment = create_segment(db.session, actor=acting()["actor"], **data)
        db.session.commit()
        return _counted(segment)


@blp.route("/preview")
class SegmentPreview(MethodView):
    @blp.arguments(SegmentPreviewIn)
    @blp.response(200, SegmentPreviewOut)
    @blp.errors(400)
    @requires("contacts:read")
    def post(self, data):
        """Count and show the contacts a condition selects, without saving it

        For the designer: the condition is checked as a save would check it (422 naming
        the node). Deleted contacts are left out; `sort` is the contact list's.
        """
        with refusals_answered():
            query = contacts_matching(db.session, data["condition"])
        page = paginate(
            db.session,
            query,
            contact_listing(),
            {"filter": [], "page": 1, "per_page": data["per_page"], "sort": data["sort"]},
        )
        return {"count": page["meta"]["total"], "items": page["items"]}


@blp.route("/<uuid:segment_id>")
class SegmentById(MethodView):
    @blp.response(200, SegmentOut)
    @requires("contacts:read")
    def get(self, segment_id):
        """Read a segment, with its contact count"""
        return _counted(_segment_or_404(segment_id))

    @blp.arguments(SegmentIn(partial=True))
    @blp.response(200, SegmentOut)
    @blp.errors(409)
    @requires("segments:manage")
    def patch(self, data, segment_id):
        """Change a segment's name, description or condition (audited; checked as on
        creation)"""
        segment = _segment_or_404(segment_id)
        with refusals_answered():
            update_segment(db.session, segment, actor=acting()["actor"], **data)
        db.session.commit()
        return _counted(segment)

    @blp.response(204)
    @blp.errors(409)
    @requires("segments:manage")
    def delete(self, segment_id):
        """Delete a segment (audited)

        Refused with 409 `segment_in_use` while automation rules name it in their
        conditions ("contact is in segment"): `rules` lists them (`id`, `name`); change
        or delete them first, so that no rule silently stops matching.
        """
        segment = _segment_or_404(segment_id)
        try:
            delete_segment(db.session, segment, actor=acting()["actor"])
        except SegmentInUse as exc:
            names = ", ".join(repr(rule.name) for rule in exc.rules)
            fail(
                409,
                "segment_in_use",
                f"Automation rules use this segment: {names}.",
                extra={"rules": [{"id": str(rule.id), "name": rule.name} for rule in exc.rules]},
            )
        db.session.commit()


@blp.route("/<uuid:segment_id>/contacts")
class SegmentContacts(MethodView):
    @blp.arguments(ListArgs, location="query")
    @blp.response(200, ContactPage)
    @blp.errors(400, 409)
    @requires("contacts:read")
    def get(self, args, segment_id):
        """List a segment's contacts, as the contact list does

        Paging, `sort` and further `filter`s are the contact list's (custom fields
        included); deleted contacts are left out. A segment whose condition no longer
        compiles answers 409 `segment_invalid`, `errors` pointing into the condition.
        """
        segment = _segment_or_404(segment_id)
        try:
            query = members(db.session, segment)
        except SegmentBroken as exc:
            broken_segment(exc)
        return paginate(db.session, query, contact_listing(), args)
