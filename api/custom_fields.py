"""Custom field definitions of the current account (contacts and conversations).

Values are written with the records themselves (``custom_fields`` on contacts and
conversations) and listed through the shared grammar as ``custom_fields.<key>``
(:func:`listing_fields`); the rules live in :mod:`crm.custom_fields`.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import marshmallow as ma
from flask.views import MethodView

from api.auth import current_actor, requires, tenant_blueprint
from api.base import Schema
from api.errors import fail
from api.listing import ORDERED_OPS, TEXT_OPS, Field
from crm.custom_fields import (
    BOOLEAN,
    DATE,
    ENTITIES,
    KEY,
    MAX_OPTIONS,
    MAX_REGEX_LENGTH,
    MULTI_SELECT,
    NUMBER,
    SINGLE_SELECT,
    TYPES,
    CustomFieldDefinition,
    CustomFieldError,
    KeyTaken,
    condition,
    create_definition,
    delete_definition,
    get_definition,
    list_definitions,
    reorder_definitions,
    sort_expression,
    update_definition,
)
from tenants.db import db

blp = tenant_blueprint(
    "custom_fields",
    __name__,
    "/custom-fields",
    description="Custom field definitions for contacts and conversations",
)

_ENTITY = ma.validate.OneOf(ENTITIES)
_TYPE_HELP = (
    "`text` (optionally matching `regex`), `number`, `date` (stored `YYYY-MM-DD`), "
    "`boolean`, `single_select` / `multi_select` (from `options`), `url` (http or https), "
    "`email` (stored lower-cased), `phone` (stored without separators)"
)


class CustomFieldIn(Schema):
    entity = ma.fields.String(
        required=True, validate=_ENTITY, metadata={"description": "What the field is on"}
    )
    key = ma.fields.String(
        required=True,
        validate=ma.validate.Regexp(
            rf"^{KEY.pattern}$", error="a lower-case letter, then [a-z0-9_], 64 at most"
        ),
        metadata={
            "description": "Unique per entity; values are stored and filtered under it "
            "(`custom_fields.<key>`). It cannot be changed later",
            "example": "plan",
        },
    )
    label = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=200))
    type = ma.fields.String(
        required=True, validate=ma.validate.OneOf(TYPES), metadata={"description": _TYPE_HELP}
    )
    required = ma.fields.Boolean(
        load_default=False,
        metadata={"description": "Records must get a value when created, and keep one"},
    )
    regex = ma.fields.String(
        allow_none=True,
        validate=ma.validate.Length(min=1, max=MAX_REGEX_LENGTH),
        metadata={
            "description": "Text fields only: a value must match it whole. No nested "
            "repetitions (`(a+)+`) nor backreferences",
            "example": "^[A-Z]{2}-[0-9]{4}$",
        },
    )
    options = ma.fields.List(
        ma.fields.String(validate=ma.validate.Length(min=1, max=100)),
        validate=ma.validate.Length(max=MAX_OPTIONS),
        metadata={
            "description": "Select types only (and required for them): the allowed values, "
            "in display order",
            "example": ["free", "pro", "enterprise"],
        },
    )
    position = ma.fields.Integer(
        allow_none=True,
        validate=ma.validate.Range(min=0),
        metadata={"description": "Display order within the entity; default: last"},
    )
    description = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=1000))


class CustomFieldPatch(Schema):
    """Only what is given changes; ``key`` and ``entity`` may be sent only unchanged."""

    entity = ma.fields.String(
        validate=_ENTITY, metadata={"description": "Cannot change: only the current value"}
    )
    key = ma.fields.String(
        metadata={"description": "Cannot change (values are stored under it): only the current"}
    )
    label = ma.fields.String(validate=ma.validate.Length(min=1, max=200))
    type = ma.fields.String(
        validate=ma.validate.OneOf(TYPES),
        metadata={"description": "Stored values are not converted; see the operation"},
    )
    required = ma.fields.Boolean()
    regex = ma.fields.String(
        allow_none=True, validate=ma.validate.Length(min=1, max=MAX_REGEX_LENGTH)
    )
    options = ma.fields.List(
        ma.fields.String(validate=ma.validate.Length(min=1, max=100)),
        validate=ma.validate.Length(max=MAX_OPTIONS),
        metadata={"description": "The whole new list (select types only)"},
    )
    position = ma.fields.Integer(validate=ma.validate.Range(min=0))
    description = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=1000))


class CustomFieldOut(Schema):
    id = ma.fields.UUID(required=True)
    entity = ma.fields.String(required=True, metadata={"enum": list(ENTITIES)})
    key = ma.fields.String(required=True)
    label = ma.fields.String(required=True)
    type = ma.fields.String(required=True, metadata={"enum": list(TYPES)})
    required = ma.fields.Boolean(required=True)
    regex = ma.fields.String(allow_none=True)
    options = ma.fields.List(ma.fields.String(), required=True)
    position = ma.fields.Integer(required=True)
    description = ma.fields.String(allow_none=True)
    created_at = ma.fields.AwareDateTime(required=True)
    updated_at = ma.fields.AwareDateTime(required=True)


class CustomFieldList(Schema):
    items = ma.fields.List(ma.fields.Nested(CustomFieldOut), required=True)


class CustomFieldArgs(Schema):
    entity = ma.fields.String(validate=_ENTITY, metadata={"description": "Only this entity's"})


class CustomFieldOrderIn(Schema):
    entity = ma.fields.String(required=True, validate=_ENTITY)
    ids = ma.fields.List(
        ma.fields.UUID(),
        required=True,
        metadata={"description": "Every definition of the entity, once, in the new order"},
    )


def _refused(exc: CustomFieldError):
    fail(422, "validation_failed", "The request has invalid fields.", errors=exc.errors)


def _definition_or_404(definition_id) -> CustomFieldDefinition:
    definition = get_definition(db.session, definition_id)
    if definition is None:
        fail(404, "custom_field_not_found", "No such custom field.")
    return definition


@blp.route("")
class CustomFields(MethodView):
    @blp.arguments(CustomFieldArgs, location="query")
    @blp.response(200, CustomFieldList)
    @requires("contacts:read")
    def get(self, args):
        """List custom field definitions, by entity and position"""
        return {"items": list_definitions(db.session, args.get("entity"))}

    @blp.arguments(CustomFieldIn)
    @blp.response(201, CustomFieldOut)
    @blp.errors(409)
    @requires("settings:manage")
    def post(self, data):
        """Define a custom field (audited)

        `409 custom_field_key_taken` when the entity already has a field with this key;
        options given to a non-select type, or a regex to a non-text one, are a 422.
        """
        try:
            definition = create_definition(db.session, actor=current_actor(), **data)
        except KeyTaken:
            fail(
                409,
                "custom_field_key_taken",
                f"A {data['entity']} field already has the key {data['key']!r}.",
                errors={"key": ["already used by another field of this entity"]},
            )
        except CustomFieldError as exc:
            _refused(exc)
        db.session.commit()
        return definition


@blp.route("/order")
class CustomFieldOrder(MethodView):
    @blp.arguments(CustomFieldOrderIn)
    @blp.response(200, CustomFieldList)
    @requires("settings:manage")
    def put(self, data):
        """Reorder an entity's custom fields (audited)

        `ids` must list each of the entity's definitions exactly once (else 422 naming
        `ids`); positions become 0, 1, 2... in that order.
        """
        try:
            items = reorder_definitions(db.session, actor=current_actor(), **data)
        except CustomFieldError as exc:
            _refused(exc)
        db.session.commit()
        return {"items": items}


@blp.route("/<uuid:definition_id>")
class CustomFieldById(MethodView):
    @blp.response(200, CustomFieldOut)
    @requires("contacts:read")
    def get(self, definition_id):
        """Read one custom field definition"""
        return _definition_or_404(definition_id)

    @blp.arguments(CustomFieldPatch)
    @blp.response(200, CustomFieldOut)
    @requires("settings:manage")
    def patch(self, data, definition_id):
        """Change a custom field definition (audited)

        `key` and `entity` cannot change (422). A new type, options or regex does not
        rewrite stored values: each record's values are checked against the new rules the
        next time its custom fields are written.
        """
        definition = _definition_or_404(definition_id)
        try:
            update_definition(db.session, definition, actor=current_actor(), **data)
        except CustomFieldError as exc:
            _refused(exc)
        db.session.commit()
        return definition

    @blp.response(204)
    @requires("settings:manage")
    def delete(self, definition_id):
        """Delete a custom field definition and its values (audited)

        Every record's value for the key is removed in the same transaction; a field
        defined later with the same key starts empty.
        """
        delete_definition(db.session, _definition_or_404(definition_id), actor=current_actor())
        db.session.commit()


# --- the list grammar ------------------------------------------------------------------

_KINDS: dict[str, type] = {NUMBER: float, DATE: date, BOOLEAN: bool}
_OPS: dict[str, tuple[str, ...]] = {
    NUMBER: ORDERED_OPS,
    DATE: ORDERED_OPS,
    BOOLEAN: ("eq", "ne", "isnull"),
    SINGLE_SELECT: ("eq", "ne", "in", "isnull"),
    MULTI_SELECT: ("contains", "in", "isnull"),
}


def listing_fields(entity: str, column: Any) -> dict[str, Field]:
    """``custom_fields.<key>`` list fields for each of the account's ``entity`` fields,
    filtering and sorting over the JSONB ``column`` in SQL (:mod:`crm.custom_fields`).

    Multi-select fields filter with ``contains`` (has that option) and ``in`` (has any
    of them) and do not sort.
    """
    fields = {}
    for definition in list_definitions(db.session, entity):

        def where(op: str, value: Any, definition: CustomFieldDefinition = definition):
            return condition(column, definition, op, value)

        fields[f"custom_fields.{definition.key}"] = Field(
            sort_expression(column, definition),
            _KINDS.get(definition.type, str),
            _OPS.get(definition.type, TEXT_OPS),
            sortable=definition.type != MULTI_SELECT,
            condition=where,
        )
    return fields


def values_in(entity: str) -> ma.fields.Dict:
    """The ``custom_fields`` input of a record of ``entity``."""
    return ma.fields.Dict(
        keys=ma.fields.String(),
        metadata={
            "description": f"Values of the account's {entity} custom fields by key "
            "(GET /custom-fields). On creation the whole set, required fields included; "
            "on change merged key by key, `null` (or an empty string or list) removing a "
            "key. Unknown keys and values not fitting their field are a 422 naming "
            "`custom_fields.<key>`",
            "example": {"plan": "pro", "seats": 12, "renews_on": "2025-01-31"},
        },
    )


def values_out() -> ma.fields.Dict:
    return ma.fields.Dict(
        required=True,
        metadata={"description": "Custom field values by key, in their normalised form"},
    )
