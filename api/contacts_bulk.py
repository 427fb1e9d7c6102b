"""Bulk operations on the current account's contacts (rules in :mod:`crm.bulk`)."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import g
from flask.views import MethodView

from api.auth import acting, deny, requires, tenant_blueprint
from api.base import Schema
from api.contacts import ContactIn, contact_listing, in_segment
from api.errors import fail
from api.helpdesk_errors import refusals_answered
from api.listing import filtered
from crm.bulk import (
    ALL_OR_NOTHING,
    ERROR,
    MAX_ITEMS,
    MAX_TAGGED,
    MODES,
    NOT_APPLIED,
    OK,
    OPERATIONS,
    TooManyContacts,
    contact_ids,
    live_contact_ids,
    run_batch,
    tag_contacts,
)
from crm.service import InvalidContact
from helpdesk.tags import MAX_NAME_LENGTH
from tenants.db import db

blp = tenant_blueprint(
    "contacts_bulk", __name__, "/contacts/bulk", description="Bulk operations on contacts"
)

#: Each operation's permission: the single endpoint's.
PERMISSIONS = {"create": "contacts:write", "update": "contacts:write", "delete": "contacts:delete"}


class BulkIn(Schema):
    operation = ma.fields.String(required=True, validate=ma.validate.OneOf(OPERATIONS))
    items = ma.fields.List(
        ma.fields.Dict(),
        required=True,
        validate=ma.validate.Length(min=1),
        metadata={
            "description": f"At most {MAX_ITEMS}. `create`: contact bodies (as "
            "`POST …/contacts`, custom fields included); `update`: `{id, …fields}` (as "
            "`PATCH …/contacts/{id}`); `delete`: `{id}`. Each item is checked on its own: "
            "a bad one is reported, not the whole request refused",
            "example": [{"name": "Ada Lovelace", "email": "ada@example.com"}],
        },
    )
    mode = ma.fields.String(
        load_default=ALL_OR_NOTHING,
        validate=ma.validate.OneOf(MODES),
        metadata={
            "description": "`all_or_nothing` (default): any failing item and nothing is "
            "written; `best_effort`: the items that succeed are written"
        },
    )


class UpdateItem(ContactIn):
    id = ma.fields.UUID(required=True)


class DeleteItem(Schema):
    id = ma.fields.UUID(required=True)


_CHECKS = {
    "create": ContactIn(),
    "update": UpdateItem(partial=tuple(ContactIn().fields)),
    "delete": DeleteItem(),
}


class ItemErrorOut(Schema):
    code = ma.fields.String(required=True, metadata={"example": "contact_email_taken"})
    message = ma.fields.String(required=True)
    errors = ma.fields.Dict(
        keys=ma.fields.String(),
        required=True,
        metadata={"description": "Per-field messages, as the single endpoint answers them"},
    )
    duplicate_of = ma.fields.UUID(
        metadata={"description": "On a duplicate: the contact that already has the value"}
    )
    duplicate_of_index = ma.fields.Integer(
        metadata={
            "description": "On a duplicate of an earlier item of the batch: its index "
            "(`duplicate_of` is then absent when the batch was not applied)"
        }
    )


class ItemResultOut(Schema):
    index = ma.fields.Integer(required=True, metadata={"description": "Position in `items`"})
    status = ma.fields.String(
        required=True,
        metadata={
            "description": f"`{OK}`, `{ERROR}`, or `{NOT_APPLIED}` (succeeded, but rolled "
            "back with the rest of an all-or-nothing batch)",
            "enum": [OK, ERROR, NOT_APPLIED],
        },
    )
    id = ma.fields.UUID(metadata={"description": "The contact (created, changed, deleted)"})
    error = ma.fields.Nested(ItemErrorOut)

    @ma.post_dump
    def _without_nulls(self, data: dict[str, Any], **kwargs) -> dict[str, Any]:
        return {key: value for key, value in data.items() if value is not None}


class BatchCountsOut(Schema):
    ok = ma.fields.Integer(required=True)
    error = ma.fields.Integer(required=True)
    not_applied = ma.fields.Integer(required=True)
    total = ma.fields.Integer(required=True)


class BatchReportOut(Schema):
    applied = ma.fields.Boolean(
        required=True, metadata={"description": "Whether the successful items were written"}
    )
    items = ma.fields.List(ma.fields.Nested(ItemResultOut), required=True)
    counts = ma.fields.Nested(BatchCountsOut, required=True)


class ExpressionList(ma.fields.List):
    """One ``field:op:value`` expression, or a list of them."""

    def _deserialize(self, value, attr, data, **kwargs):
        return super()._deserialize([value] if isinstance(value, str) else value, attr, data)


class BulkTagsIn(Schema):
    add = ma.fields.List(
        ma.fields.String(validate=ma.validate.Length(min=1, max=MAX_NAME_LENGTH)),
        load_default=list,
        validate=ma.validate.Length(max=50),
        metadata={"description": "Tag names; a name no tag has yet becomes a new tag"},
    )
    remove = ma.fields.List(
        ma.fields.String(validate=ma.validate.Length(min=1, max=MAX_NAME_LENGTH)),
        load_default=list,
        validate=ma.validate.Length(max=50),
        metadata={"description": "Tag names; a name no tag has is ignored"},
    )
    ids = ma.fields.List(
        ma.fields.UUID(),
        validate=ma.validate.Length(min=1, max=MAX_TAGGED),
        metadata={"description": f"The contacts, at most {MAX_TAGGED}"},
    )
    filter = ExpressionList(
        ma.fields.String(),
        metadata={
            "description": "Or the contacts a list would show with these `filter` "
            "expressions (`GET …/contacts?filter=`, custom fields included): one "
            "`field:op:value` string or a list of them, all holding; at most "
            f"{MAX_TAGGED} contacts may match. An empty list selects every contact",
            "example": ["company:eq:Analytical Engines"],
        },
    )
    segment_id = ma.fields.UUID(
        metadata={
            "description": "Or the contacts of this segment (GET …/segments), alone or "
            f"narrowed by `filter`; at most {MAX_TAGGED} contacts. 422 when the account "
            "has no such segment, 409 `segment_invalid` when its condition no longer "
            "compiles"
        },
    )

    @ma.validates_schema
    def _one_selection(self, data: dict[str, Any], **kwargs) -> None:
        if ("ids" in data) == ("filter" in data or "segment_id" in data):
            raise ma.ValidationError("give either ids, or a filter and/or a segment_id", "ids")
        if not data["add"] and not data["remove"]:
            raise ma.ValidationError("give tags to add or remove", "add")


class BulkTagsOut(Schema):
    matched = ma.fields.Integer(
        required=True, metadata={"description": "Contacts selected (ids found, or matching)"}
    )
    changed = ma.fields.Integer(
        required=True, metadata={"description": "Contacts that gained or lost a tag"}
    )
    added = ma.fields.Integer(required=True, metadata={"description": "Tag links added"})
    removed = ma.fields.Integer(required=True, metadata={"description": "Tag links removed"})
    not_found = ma.fields.List(
        ma.fields.UUID(),
        metadata={"description": "With `ids`: those that are no contact of this account"},
    )


def _checker(operation: str):
    schema = _CHECKS[operation]

    def check(item: dict[str, Any]) -> dict[str, Any]:
        try:
            return schema.load(item)
        except ma.ValidationError as exc:
            raise InvalidContact(exc.normalized_messages()) from exc

    return check


@blp.route("")
class ContactsBulk(MethodView):
    @blp.arguments(BulkIn)
    @blp.response(200, BatchReportOut)
    @blp.errors(409)
    @requires("contacts:write")
    def post(self, data):
        """Create, change or delete up to 1,000 contacts in one call

        Each item goes through the rules of the single endpoints (normalisation, custom
        fields, duplicates, events, audit) and is reported on by its `index`: `ok` with
        its `id`, or `error` with the single endpoint's `code`, `message`, `errors` and
        `duplicate_of`. Two items with the same email or phone: the second is refused
        (`duplicate_of_index` names the first). Another account's ids are `contact_not_found`.

        `best_effort` answers 200 with the report, the good items written. An
        `all_or_nothing` batch (the default) with a failing item writes nothing and
        answers `422 bulk_rejected` — `409 bulk_rejected` when every failure is a
        duplicate — with the report in `report` (the other items `not_applied`).
        More than 1,000 items is `422 too_many_items`. `delete` also needs
        `contacts:delete`.
        """
        operation = data["operation"]
        if PERMISSIONS[operation] not in g.permissions:
            deny(PERMISSIONS[operation])
        if len(data["items"]) > MAX_ITEMS:
            fail(
                422,
                "too_many_items",
                f"At most {MAX_ITEMS} items per call; split the batch.",
                errors={"items": [f"at most {MAX_ITEMS} items"]},
            )
        report = run_batch(
            db.session,
            operation=operation,
            items=data["items"],
            mode=data["mode"],
            check=_checker(operation),
            **acting(),
        )
        if not report.applied:
            db.session.rollback()
            conflicts = all(item.error["code"].endswith("_taken") for item in report.failures)
            failed = ", ".join(str(item.index) for item in report.failures[:20])
            fail(
                409 if conflicts else 422,
                "bulk_rejected",
                f"Nothing was written: {len(report.failures)} item(s) failed "
                f"(index {failed}{', …' if len(report.failures) > 20 else ''}).",
                extra={"report": BatchReportOut().dump(report)},
            )
        db.session.commit()
        return report


@blp.route("/tags")
class ContactsBulkTags(MethodView):
    @blp.arguments(BulkTagsIn)
    @blp.response(200, BulkTagsOut)
    @blp.errors(400, 409)
    @requires("contacts:write")
    def post(self, data):
        """Tag and untag many contacts at once, by ids, a list filter or a segment

        Applied set-wise; each contact that gains or loses a tag emits `tag.added` /
        `tag.removed` as tagging it alone does (tags already carried, or not carried,
        change nothing and emit nothing). Names in `add` no tag has yet become tags.
        A filter selecting more than 10,000 contacts is `422 too_many_contacts`; a bad
        filter is `400 invalid_filter`, as on the list.
        """
        if "ids" in data:
            selection = contact_ids(data["ids"])
        else:
            selection = filtered(live_contact_ids(), contact_listing(), data.get("filter", []))
            if "segment_id" in data:
                selection = selection.where(in_segment(data["segment_id"], "segment_id"))
        try:
            with refusals_answered():
                change = tag_contacts(
                    db.session,
                    contacts=selection,
                    add=data["add"],
                    remove=data["remove"],
                    limit=MAX_TAGGED,
                    **acting(),
                )
        except TooManyContacts:
            field = "filter" if "filter" in data else "segment_id"
            fail(
                422,
                "too_many_contacts",
                f"The selection holds more than {MAX_TAGGED} contacts; narrow it.",
                errors={field: [f"at most {MAX_TAGGED} contacts per call"]},
            )
        db.session.commit()
        answer = {
            "matched": change.matched,
            "changed": change.changed,
            "added": len(change.added),
            "removed": len(change.removed),
        }
        if "ids" in data:
            found = set(change.ids)
            answer["not_found"] = [i for i in dict.fromkeys(data["ids"]) if i not in found]
        return answer
