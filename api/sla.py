"""SLA policies, holidays, the hit-rate report and each conversation's SLA state."""

from __future__ import annotations

import uuid

import marshmallow as ma
from flask import g
from flask.views import MethodView

from api.auth import current_actor, requires, tenant_blueprint
from api.base import Schema
from api.errors import fail
from api.helpdesk_errors import refusals_answered
from helpdesk.conversations import get_conversation
from helpdesk.models import PRIORITIES
from helpdesk.sla.models import HOURS, STATUSES, TARGETS, Holiday, SlaPolicy
from helpdesk.sla.policies import (
    apply_policy,
    create_holiday,
    create_policy,
    delete_holiday,
    delete_policy,
    get_holiday,
    get_policy,
    list_holidays,
    list_policies,
    update_holiday,
    update_policy,
)
from helpdesk.sla.tracking import conversation_state, report
from tenants.db import db

blp = tenant_blueprint(
    "sla", __name__, "", description="SLA policies, business holidays and SLA tracking"
)

_MINUTES = {"validate": ma.validate.Range(min=1, max=366 * 24 * 60), "allow_none": True}


class SlaTargetMinutes(Schema):
    first_response = ma.fields.Integer(
        **_MINUTES, metadata={"description": "Minutes until the first public agent reply"}
    )
    next_response = ma.fields.Integer(
        **_MINUTES,
        metadata={"description": "Minutes from a customer message to the next agent reply"},
    )
    resolution = ma.fields.Integer(
        **_MINUTES,
        metadata={"description": "Minutes until resolved (paused while pending)"},
    )


class SlaWarning(Schema):
    minutes_before = ma.fields.Integer(validate=ma.validate.Range(min=1))
    percent = ma.fields.Integer(validate=ma.validate.Range(min=1, max=99))

    @ma.validates_schema
    def _one_kind(self, data, **kwargs):
        if len(data) != 1:
            raise ma.ValidationError("set exactly one of minutes_before and percent")


class SlaConditions(Schema):
    channel_ids = ma.fields.List(ma.fields.UUID(), load_default=list)
    team_ids = ma.fields.List(ma.fields.UUID(), load_default=list)
    priorities = ma.fields.List(
        ma.fields.String(validate=ma.validate.OneOf(PRIORITIES)), load_default=list
    )


class SlaPolicyIn(Schema):
    name = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=200))
    description = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=1000))
    enabled = ma.fields.Boolean(load_default=True)
    position = ma.fields.Integer(
        allow_none=True,
        validate=ma.validate.Range(min=0),
        metadata={"description": "Lowest first decides; default: after the others"},
    )
    hours = ma.fields.String(load_default="business", validate=ma.validate.OneOf(HOURS))
    targets = ma.fields.Dict(
        keys=ma.fields.String(validate=ma.validate.OneOf(PRIORITIES)),
        values=ma.fields.Nested(SlaTargetMinutes),
        load_default=dict,
        metadata={
            "description": "Per priority; a priority or target left out is not measured",
            "example": {"urgent": {"first_response": 15, "resolution": 240}},
        },
    )
    warning = ma.fields.Nested(
        SlaWarning,
        allow_none=True,
        metadata={"description": "When to warn before a deadline; null: no warnings"},
    )
    conditions = ma.fields.Nested(
        SlaConditions,
        load_default=dict,
        metadata={"description": "All given lists must match; an empty list matches all"},
    )


class SlaPolicyOut(Schema):
    id = ma.fields.UUID(required=True)
    name = ma.fields.String(required=True)
    description = ma.fields.String(allow_none=True)
    enabled = ma.fields.Boolean(required=True)
    position = ma.fields.Integer(required=True)
    hours = ma.fields.String(required=True)
    targets = ma.fields.Dict(
        keys=ma.fields.String(), values=ma.fields.Nested(SlaTargetMinutes), required=True
    )
    warning = ma.fields.Nested(SlaWarning, allow_none=True)
    conditions = ma.fields.Nested(SlaConditions, required=True)
    created_at = ma.fields.AwareDateTime(required=True)
    updated_at = ma.fields.AwareDateTime(required=True)


class SlaPolicyList(Schema):
    items = ma.fields.List(ma.fields.Nested(SlaPolicyOut), required=True)


class HolidayIn(Schema):
    name = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=200))
    date = ma.fields.Date(required=True, metadata={"description": "A local date: closed all day"})


class HolidayOut(Schema):
    id = ma.fields.UUID(required=True)
    name = ma.fields.String(required=True)
    date = ma.fields.Date(required=True)
    created_at = ma.fields.AwareDateTime(required=True)
    updated_at = ma.fields.AwareDateTime(required=True)


class HolidayList(Schema):
    items = ma.fields.List(ma.fields.Nested(HolidayOut), required=True)


class SlaApplyIn(Schema):
    policy_id = ma.fields.UUID(
        required=True,
        allow_none=True,
        metadata={"description": "null: measure this conversation against no policy"},
    )


class SlaTargetOut(Schema):
    target = ma.fields.String(required=True, metadata={"enum": list(TARGETS)})
    status = ma.fields.String(required=True, metadata={"enum": list(STATUSES)})
    policy_id = ma.fields.UUID(required=True)
    started_at = ma.fields.AwareDateTime(required=True)
    due_at = ma.fields.AwareDateTime(allow_none=True, metadata={"description": "null: paused"})
    warn_at = ma.fields.AwareDateTime(allow_none=True)
    warned_at = ma.fields.AwareDateTime(allow_none=True)
    breached_at = ma.fields.AwareDateTime(allow_none=True)
    completed_at = ma.fields.AwareDateTime(allow_none=True)
    paused = ma.fields.Method("_paused", metadata={"type": "boolean"})

    def _paused(self, row):
        return row.completed_at is None and row.running_since is None


class ConversationSlaOut(Schema):
    conversation_id = ma.fields.UUID(required=True)
    policy_id = ma.fields.UUID(allow_none=True)
    explicit = ma.fields.Boolean(
        required=True, metadata={"description": "Applied by hand rather than by conditions"}
    )
    targets = ma.fields.List(ma.fields.Nested(SlaTargetOut), required=True)


class SlaReportArgs(Schema):
    start = ma.fields.AwareDateTime(
        data_key="from", metadata={"description": "Targets started at or after this"}
    )
    end = ma.fields.AwareDateTime(data_key="to", metadata={"description": "…and before this"})
    policy_id = ma.fields.UUID()


class SlaTally(Schema):
    total = ma.fields.Integer(required=True)
    hit = ma.fields.Integer(required=True)
    missed = ma.fields.Integer(required=True)
    pending = ma.fields.Integer(required=True)
    hit_rate = ma.fields.Float(
        allow_none=True, metadata={"description": "hit / (hit + missed); null if none decided"}
    )


class SlaPolicyReport(Schema):
    policy_id = ma.fields.UUID(required=True)
    name = ma.fields.String(required=True)
    targets = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Nested(SlaTally))


class SlaReportOut(Schema):
    items = ma.fields.List(ma.fields.Nested(SlaPolicyReport), required=True)


def _policy_or_404(policy_id: uuid.UUID) -> SlaPolicy:
    policy = get_policy(db.session, policy_id)
    if policy is None:
        fail(404, "sla_policy_not_found", "No such SLA policy.")
    return policy


def _holiday_or_404(holiday_id: uuid.UUID) -> Holiday:
    holiday = get_holiday(db.session, holiday_id)
    if holiday is None:
        fail(404, "holiday_not_found", "No such holiday.")
    return holiday


def _conversation_or_404(conversation_id: uuid.UUID):
    conversation = get_conversation(db.session, conversation_id)
    if conversation is None:
        fail(404, "conversation_not_found", "No such conversation.")
    return conversation


@blp.route("/sla/policies")
class Policies(MethodView):
    @blp.response(200, SlaPolicyList)
    @requires("conversations:read")
    def get(self):
        """List SLA policies in the order they are tried"""
        return {"items": list_policies(db.session)}

    @blp.arguments(SlaPolicyIn)
    @blp.response(201, SlaPolicyOut)
    @blp.errors(409)
    @requires("sla:manage")
    def post(self, data):
        """Create an SLA policy (audited)"""
        with refusals_answered():
            policy = create_policy(db.session, actor=current_actor(), **data)
        db.session.commit()
        return policy


@blp.route("/sla/policies/<uuid:policy_id>")
class PolicyById(MethodView):
    @blp.response(200, SlaPolicyOut)
    @requires("conversations:read")
    def get(self, policy_id):
        """Read one SLA policy"""
        return _policy_or_404(policy_id)

    @blp.arguments(SlaPolicyIn(partial=True))
    @blp.response(200, SlaPolicyOut)
    @blp.errors(409)
    @requires("sla:manage")
    def patch(self, data, policy_id):
        """Change an SLA policy (audited; conversations follow at their next event)"""
        policy = _policy_or_404(policy_id)
        with refusals_answered():
            update_policy(db.session, policy, actor=current_actor(), **data)
        db.session.commit()
        return policy

    @blp.response(204)
    @requires("sla:manage")
    def delete(self, policy_id):
        """Delete an SLA policy and its measurements (disable it to keep its report)"""
        delete_policy(db.session, _policy_or_404(policy_id), actor=current_actor())
        db.session.commit()


@blp.route("/sla/holidays")
class Holidays(MethodView):
    @blp.response(200, HolidayList)
    @requires("conversations:read")
    def get(self):
        """List the account's holidays (business hours are closed on them)"""
        return {"items": list_holidays(db.session)}

    @blp.arguments(HolidayIn)
    @blp.response(201, HolidayOut)
    @blp.errors(409)
    @requires("sla:manage")
    def post(self, data):
        """Add a holiday (audited)"""
        with refusals_answered():
            holiday = create_holiday(db.session, actor=current_actor(), **data)
        db.session.commit()
        return holiday


@blp.route("/sla/holidays/<uuid:holiday_id>")
class HolidayById(MethodView):
    @blp.response(200, HolidayOut)
    @requires("conversations:read")
    def get(self, holiday_id):
        """Read one holiday"""
        return _holiday_or_404(holiday_id)

    @blp.arguments(HolidayIn(partial=True))
    @blp.response(200, HolidayOut)
    @blp.errors(409)
    @requires("sla:manage")
    def patch(self, data, holiday_id):
        """Change a holiday (audited)"""
        holiday = _holiday_or_404(holiday_id)
        with refusals_answered():
            update_holiday(db.session, holiday, actor=current_actor(), **data)
        db.session.commit()
        return holiday

    @blp.response(204)
    @requires("sla:manage")
    def delete(self, holiday_id):
        """Delete a holiday (audited)"""
        delete_holiday(db.session, _holiday_or_404(holiday_id), actor=current_actor())
        db.session.commit()


@blp.route("/sla/report")
class SlaReportView(MethodView):
    @blp.arguments(SlaReportArgs, location="query")
    @blp.response(200, SlaReportOut)
    @requires("conversations:read")
    def get(self, args):
        """Targets per policy: total, hit, missed, pending and hit rate

        Counts the targets started in `[from, to)` (both optional).
        """
        return {"items": report(db.session, **args)}


@blp.route("/conversations/<uuid:conversation_id>/sla")
class ConversationSlaView(MethodView):
    @blp.response(200, ConversationSlaOut)
    @requires("conversations:read")
    def get(self, conversation_id):
        """A conversation's SLA: its policy and every target measured, oldest first"""
        return conversation_state(db.session, _conversation_or_404(conversation_id))

    @blp.arguments(SlaApplyIn)
    @blp.response(200, ConversationSlaOut)
    @requires("sla:manage")
    def post(self, data, conversation_id):
        """Apply an SLA policy to a conversation by hand, or none with null

        SlaConditions no longer decide for this conversation; its deadlines are recomputed
        at once.
        """
        conversation = _conversation_or_404(conversation_id)
        with refusals_answered():
            apply_policy(
                db.session,
                conversation,
                account_id=g.account.id,
                actor=current_actor(),
                **data,
            )
        db.session.commit()
        return conversation_state(db.session, conversation)
