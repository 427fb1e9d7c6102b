"""Automation rules of the current account, their versions, their order, and the
catalogue of what a rule may refer to (for the visual designer)."""

from __future__ import annotations

import uuid
from datetime import datetime

import marshmallow as ma
from flask import g
from flask.views import MethodView
from sqlalchemy import select

from api.auth import acting, requires, tenant_blueprint
from api.base import Schema
from api.errors import fail
from api.helpdesk_errors import refusals_answered
from api.listing import ORDERED_OPS, Field, ListArgs, Listing, page_schema, paginate
from automation.actions import ACTIONS
from automation.catalogue import CONTEXT_VERSION, FIELDS, SCHEDULES, TRIGGER_EVENTS
from automation.engine import try_rule
from automation.models import WEBHOOK_STATUSES, Rule, RuleRun, WebhookDelivery
from automation.rules import (
    DEFAULTS,
    check_definition,
    create_rule,
    delete_rule,
    get_rule,
    list_rules,
    list_versions,
    reorder_rules,
    restore_version,
    update_rule,
)
from automation.webhooks import redeliver, rotate, secret_info
from events import names
from tenants.db import db

blp = tenant_blueprint(
    "automation", __name__, "/automation", description="Automation rules and their catalogue"
)

CONDITIONS_HELP = (
    "A JSONLogic document over the evaluation context (fields: GET …/automation/fields); "
    "`true` matches every event"
)
ACTIONS_HELP = 'Run in order: [{"type": "add_tag", "params": {"tag": "vip"}}, …]'


class ScheduleSchema(Schema):
    type = ma.fields.String(required=True, metadata={"enum": list(SCHEDULES)})
    minutes = ma.fields.Integer(required=True)


class ActionSchema(Schema):
    type = ma.fields.String(required=True, metadata={"enum": list(ACTIONS)})
    params = ma.fields.Dict(keys=ma.fields.String(), load_default=dict)


class RuleFields(Schema):
    name = ma.fields.String(validate=ma.validate.Length(min=1, max=200))
    description = ma.fields.String(validate=ma.validate.Length(max=2000))
    enabled = ma.fields.Boolean()
    events = ma.fields.List(
        ma.fields.String(metadata={"enum": list(TRIGGER_EVENTS)}),
        metadata={"description": "Event names the rule runs on (or give a schedule)"},
    )
    schedule = ma.fields.Nested(
        ScheduleSchema,
        allow_none=True,
        metadata={"description": "A time-based trigger instead of events"},
    )
    conditions = ma.fields.Raw(allow_none=False, metadata={"description": CONDITIONS_HELP})
    actions = ma.fields.List(ma.fields.Nested(ActionSchema), metadata={"description": ACTIONS_HELP})
    stop_processing = ma.fields.Boolean(
        metadata={"description": "When the rule matches, later rules do not run for the event"}
    )
    log_misses = ma.fields.Boolean(
        metadata={"description": "Also log the evaluations that did not match (for debugging)"}
    )


class RuleIn(RuleFields):
    name = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=200))
    actions = ma.fields.List(
        ma.fields.Nested(ActionSchema), required=True, metadata={"description": ACTIONS_HELP}
    )


class RuleOut(Schema):
    id = ma.fields.UUID(required=True)
    name = ma.fields.String(required=True)
    description = ma.fields.String(required=True)
    enabled = ma.fields.Boolean(required=True)
    events = ma.fields.List(ma.fields.String(), required=True)
    schedule = ma.fields.Nested(ScheduleSchema, allow_none=True)
    conditions = ma.fields.Raw(required=True)
    actions = ma.fields.List(ma.fields.Nested(ActionSchema), required=True)
    position = ma.fields.Integer(required=True)
    stop_processing = ma.fields.Boolean(required=True)
    log_misses = ma.fields.Boolean(required=True)
    version = ma.fields.Integer(required=True)
    failures = ma.fields.Integer(
        required=True, metadata={"description": "Runs in a row whose actions failed"}
    )
    disabled_reason = ma.fields.String(
        allow_none=True, metadata={"description": "Why the engine switched the rule off"}
    )
    created_by = ma.fields.UUID(allow_none=True)
    updated_by = ma.fields.UUID(allow_none=True)
    created_at = ma.fields.AwareDateTime(required=True)
    updated_at = ma.fields.AwareDateTime(required=True)


class RuleList(Schema):
    items = ma.fields.List(ma.fields.Nested(RuleOut), required=True)


class VersionOut(Schema):
    version = ma.fields.Integer(required=True)
    definition = ma.fields.Dict(required=True)
    created_by = ma.fields.UUID(allow_none=True)
    created_at = ma.fields.AwareDateTime(required=True)


class VersionList(Schema):
    items = ma.fields.List(ma.fields.Nested(VersionOut), required=True)


class OrderIn(Schema):
    rule_ids = ma.fields.List(
        ma.fields.UUID(), required=True, metadata={"description": "Every rule, in run order"}
    )


class FieldOut(Schema):
    name = ma.fields.String(required=True, metadata={"description": "The `var` path"})
    type = ma.fields.String(required=True)
    label = ma.fields.String(required=True)
    values = ma.fields.List(ma.fields.String(), required=True)
    open_ended = ma.fields.Boolean(
        required=True, metadata={"description": "Read keys under it: `<name>.<key>`"}
    )
    operators = ma.fields.List(ma.fields.String(), required=True)


class ParameterOut(Schema):
    name = ma.fields.String(required=True)
    required = ma.fields.Boolean(required=True)


class ActionTypeOut(Schema):
    type = ma.fields.String(required=True)
    description = ma.fields.String(required=True)
    parameters = ma.fields.List(ma.fields.Nested(ParameterOut), required=True)
    one_of = ma.fields.List(
        ma.fields.String(),
        required=True,
        metadata={"description": "Exactly one of these parameters is required"},
    )


class CatalogueOut(Schema):
    version = ma.fields.Integer(
        required=True, metadata={"description": "Version of the evaluation context document"}
    )
    events = ma.fields.List(ma.fields.String(), required=True)
    schedules = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.String(), required=True)
    fields = ma.fields.List(ma.fields.Nested(FieldOut), required=True)
    actions = ma.fields.List(ma.fields.Nested(ActionTypeOut), required=True)


class TryIn(Schema):
    event = ma.fields.String(
        metadata={
            "enum": [*TRIGGER_EVENTS, names.AUTOMATION_SCHEDULE_DUE],
            "description": "The event to pretend (default: the rule's first)",
        }
    )
    conversation_id = ma.fields.UUID(
        metadata={"description": "Evaluate against this conversation as it is now"}
    )
    message_id = ma.fields.UUID(metadata={"description": "And this message of it"})
    context = ma.fields.Dict(
        metadata={"description": "Or against this evaluation context document"}
    )

    @ma.validates_schema
    def _one_source(self, data, **kwargs) -> None:
        if ("conversation_id" in data) == ("context" in data):
            raise ma.ValidationError("give conversation_id or context", "conversation_id")


class TryUnsavedIn(TryIn):
    rule = ma.fields.Nested(RuleIn, required=True, metadata={"description": "The rule to try"})


class TriedCondition(Schema):
    at = ma.fields.String(required=True, metadata={"description": "JSON pointer into the rule"})
    rule = ma.fields.Raw(required=True)
    result = ma.fields.Boolean(required=True)


class TryOut(Schema):
    matched = ma.fields.Boolean(required=True)
    conditions = ma.fields.List(ma.fields.Nested(TriedCondition), required=True)
    actions = ma.fields.List(
        ma.fields.Nested(ActionSchema),
        required=True,
        metadata={"description": "What would run (nothing when not matched)"},
    )
    context = ma.fields.Dict(required=True, metadata={"description": "The document evaluated"})


class RunOut(Schema):
    id = ma.fields.UUID(required=True)
    rule_id = ma.fields.UUID(required=True)
    rule_version = ma.fields.Integer(required=True)
    event_id = ma.fields.UUID(allow_none=True)
    event_name = ma.fields.String(required=True)
    conversation_id = ma.fields.UUID(allow_none=True)
    matched = ma.fields.Boolean(required=True)
    conditions = ma.fields.List(ma.fields.Nested(TriedCondition), required=True)
    actions = ma.fields.List(
        ma.fields.Dict(),
        required=True,
        metadata={"description": "type, outcome (done/failed/skipped), error or reason, ms"},
    )
    duration_ms = ma.fields.Float(required=True)
    created_at = ma.fields.AwareDateTime(required=True)


RunPage = page_schema(RunOut, "AutomationRunPage")
_ID_OPS = ("eq", "in")
RUN_LISTING = Listing(
    fields={
        "created_at": Field(RuleRun.created_at, datetime, ORDERED_OPS),
        "rule_id": Field(RuleRun.rule_id, uuid.UUID, _ID_OPS, sortable=False),
        "conversation_id": Field(RuleRun.conversation_id, uuid.UUID, _ID_OPS, sortable=False),
        "event_name": Field(RuleRun.event_name, str, _ID_OPS),
        "matched": Field(RuleRun.matched, bool, ("eq",)),
        "duration_ms": Field(RuleRun.duration_ms, float, ORDERED_OPS),
    },
    default_sort="-created_at",
    tiebreak=RuleRun.id,
)


class SigningSecretOut(Schema):
    secret = ma.fields.String(
        required=True,
        metadata={"description": "HMAC-SHA256 key of the `Turumba-Signature` header (`v1=`)"},
    )
    created_at = ma.fields.AwareDateTime(required=True)
    previous_signs_until = ma.fields.AwareDateTime(
        allow_none=True,
        metadata={"description": "After a rotation, the previous secret signs too until then"},
    )


class DeliveryOut(Schema):
    id = ma.fields.UUID(required=True)
    rule_id = ma.fields.UUID(allow_none=True)
    event_id = ma.fields.UUID(allow_none=True)
    event_name = ma.fields.String(required=True)
    conversation_id = ma.fields.UUID(allow_none=True)
    url = ma.fields.String(required=True)
    payload = ma.fields.Dict(required=True, metadata={"description": "The JSON body sent"})
    status = ma.fields.String(required=True, metadata={"enum": list(WEBHOOK_STATUSES)})
    attempts = ma.fields.Integer(required=True)
    response_status = ma.fields.Integer(
        allow_none=True, metadata={"description": "The receiver's HTTP status, last attempt"}
    )
    error = ma.fields.String(allow_none=True)
    created_at = ma.fields.AwareDateTime(required=True)
    finished_at = ma.fields.AwareDateTime(allow_none=True)


DeliveryPage = page_schema(DeliveryOut, "WebhookDeliveryPage")
DELIVERY_LISTING = Listing(
    fields={
        "created_at": Field(WebhookDelivery.created_at, datetime, ORDERED_OPS),
        "rule_id": Field(WebhookDelivery.rule_id, uuid.UUID, ("eq", "in"), sortable=False),
        "conversation_id": Field(
            WebhookDelivery.conversation_id, uuid.UUID, ("eq", "in"), sortable=False
        ),
        "status": Field(WebhookDelivery.status, str, ("eq", "in")),
        "attempts": Field(WebhookDelivery.attempts, int, ORDERED_OPS),
    },
    default_sort="-created_at",
    tiebreak=WebhookDelivery.id,
)


def _tried(data: dict, conditions, actions, events: list[str]) -> dict:
    """The dry run ``data`` asks for; the event pretended is the rule's first unless
    ``data`` names one (a time-based rule's: its moment coming due)."""
    default_event = events[0] if events else names.AUTOMATION_SCHEDULE_DUE
    with refusals_answered():
        return try_rule(
            db.session,
            account=g.account,
            conditions=conditions,
            actions=actions,
            event_name=data.get("event", default_event),
            conversation_id=data.get("conversation_id"),
            message_id=data.get("message_id"),
            context=data.get("context"),
        )


def _rule_or_404(rule_id) -> Rule:
    rule = get_rule(db.session, rule_id)
    if rule is None:
        fail(404, "rule_not_found", "No such automation rule.")
    return rule


@blp.route("/rules")
class Rules(MethodView):
    @blp.response(200, RuleList)
    @requires("automation:read")
    def get(self):
        """List the rules, in the order they run"""
        return {"items": list_rules(db.session)}

    @blp.arguments(RuleIn)
    @blp.response(201, RuleOut)
    @requires("automation:write")
    def post(self, data):
        """Create a rule (it runs after every existing rule; reorder to move it)"""
        with refusals_answered():
            rule = create_rule(db.session, **acting(), **data)
        db.session.commit()
        return rule


@blp.route("/rules/order")
class RuleOrder(MethodView):
    @blp.arguments(OrderIn)
    @blp.response(200, RuleList)
    @requires("automation:write")
    def put(self, data):
        """Set the order rules run in"""
        with refusals_answered():
            rules = reorder_rules(db.session, rule_ids=data["rule_ids"], actor=acting()["actor"])
        db.session.commit()
        return {"items": rules}


@blp.route("/rules/<uuid:rule_id>")
class RuleById(MethodView):
    @blp.response(200, RuleOut)
    @requires("automation:read")
    def get(self, rule_id):
        """Read a rule"""
        return _rule_or_404(rule_id)

    @blp.arguments(RuleFields)
    @blp.response(200, RuleOut)
    @requires("automation:write")
    def patch(self, data, rule_id):
        """Change a rule: the result is its next version (the previous ones are kept)"""
        rule = _rule_or_404(rule_id)
        with refusals_answered():
            update_rule(db.session, rule, **acting(), **data)
        db.session.commit()
        return rule

    @blp.response(204)
    @requires("automation:write")
    def delete(self, rule_id):
        """Delete a rule and its versions (disable it instead to keep it)"""
        delete_rule(db.session, _rule_or_404(rule_id), actor=acting()["actor"])
        db.session.commit()


@blp.route("/rules/<uuid:rule_id>/versions")
class RuleVersions(MethodView):
    @blp.response(200, VersionList)
    @requires("automation:read")
    def get(self, rule_id):
        """Every version of a rule, newest first"""
        return {"items": list_versions(db.session, _rule_or_404(rule_id))}


@blp.route("/rules/<uuid:rule_id>/versions/<int:version>/restore")
class RuleRestore(MethodView):
    @blp.response(200, RuleOut)
    @requires("automation:write")
    def post(self, rule_id, version):
        """Bring an earlier version back, as the rule's next version"""
        rule = _rule_or_404(rule_id)
        with refusals_answered():
            restore_version(db.session, rule, version, **acting())
        db.session.commit()
        return rule


@blp.route("/rules/<uuid:rule_id>/test")
class RuleTest(MethodView):
    @blp.arguments(TryIn)
    @blp.response(200, TryOut)
    @requires("automation:read")
    def post(self, data, rule_id):
        """Dry run: would the rule match this conversation (or context), which branches of
        its conditions hold, and which actions would run. Changes nothing."""
        rule = _rule_or_404(rule_id)
        return _tried(data, rule.conditions, rule.actions, rule.events)


@blp.route("/rules/test")
class UnsavedRuleTest(MethodView):
    @blp.arguments(TryUnsavedIn)
    @blp.response(200, TryOut)
    @requires("automation:write")
    def post(self, data):
        """Dry run of a rule not saved yet (checked as a save would check it)"""
        with refusals_answered():
            rule = check_definition(
                db.session, account_id=g.account.id, definition=DEFAULTS | data["rule"]
            )
        return _tried(data, rule["conditions"], rule["actions"], rule["events"])


@blp.route("/runs")
class Runs(MethodView):
    @blp.arguments(ListArgs, location="query")
    @blp.response(200, RunPage)
    @blp.errors(400)
    @requires("automation:read")
    def get(self, args):
        """The run log, newest first (filter by rule_id, conversation_id, event_name,
        matched, created_at)"""
        return paginate(db.session, select(RuleRun), RUN_LISTING, args)


@blp.route("/fields")
class Catalogue(MethodView):
    @blp.response(200, CatalogueOut)
    @requires("automation:read")
    def get(self):
        """What rules may refer to: events, schedules, context fields with their operators,
        and actions with their parameters (the designer builds its lists from this)"""
        return {
            "version": CONTEXT_VERSION,
            "events": TRIGGER_EVENTS,
            "schedules": SCHEDULES,
            "fields": FIELDS,
            "actions": [
                {
                    "type": name,
                    "description": action.description,
                    "parameters": [
                        *({"name": p, "required": True} for p in action.required),
                        *({"name": p, "required": False} for p in action.optional),
                    ],
                    "one_of": action.exclusive,
                }
                for name, action in ACTIONS.items()
            ],
        }


@blp.route("/signing-secret")
class SigningSecret(MethodView):
    @blp.response(200, SigningSecretOut)
    @requires("automation:write")
    def get(self):
        """The secret webhooks are signed with (made on first read)

        A receiver checks `Turumba-Signature: t=<unix seconds>,v1=<hex>`: the hex is
        HMAC-SHA256 of `<t>.<raw body>` under this secret; refuse an old `t`.
        """
        answer = secret_info(db.session)
        db.session.commit()
        return answer


@blp.route("/signing-secret/rotate")
class SigningSecretRotation(MethodView):
    @blp.response(200, SigningSecretOut)
    @requires("automation:write")
    def post(self):
        """Replace the secret; the previous one also signs for 24 hours, so receivers
        can switch without dropping a delivery"""
        rotate(db.session, actor=acting()["actor"])
        answer = secret_info(db.session)
        db.session.commit()
        return answer


@blp.route("/webhook-deliveries")
class Deliveries(MethodView):
    @blp.arguments(ListArgs, location="query")
    @blp.response(200, DeliveryPage)
    @blp.errors(400)
    @requires("automation:read")
    def get(self, args):
        """Webhooks sent by rules, newest first (filter by rule_id, conversation_id,
        status, attempts, created_at)"""
        return paginate(db.session, select(WebhookDelivery), DELIVERY_LISTING, args)


@blp.route("/webhook-deliveries/<uuid:delivery_id>/redeliver")
class Redelivery(MethodView):
    @blp.response(202, DeliveryOut)
    @requires("automation:write")
    def post(self, delivery_id):
        """Send a delivery again from its first attempt (after fixing the receiver)"""
        with refusals_answered():
            delivery = redeliver(db.session, delivery_id, account_id=g.account.id)
        db.session.commit()
        return delivery
