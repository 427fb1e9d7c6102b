"""Automatic assignment: channels' assignment policies, agents' availability and capacity."""

from __future__ import annotations

import uuid

import marshmallow as ma
from flask import g
from flask.views import MethodView

from api.auth import current_actor, requires, tenant_blueprint
from api.base import Schema
from api.errors import fail
from api.helpdesk_errors import refusals_answered
from helpdesk.assignment import (
    AVAILABILITY,
    MODES,
    get_policy,
    list_agents,
    set_availability,
    set_capacity,
    set_policy,
)
from helpdesk.channels import get_channel
from helpdesk.models import Channel
from tenants.db import db

blp = tenant_blueprint(
    "assignment",
    __name__,
    "",
    description="Automatic assignment: channel policies, agent availability and capacity",
)


class PolicyIn(Schema):
    mode = ma.fields.String(
        required=True,
        validate=ma.validate.OneOf(MODES),
        metadata={"description": "manual: people assign; the others assign on open"},
    )
    enabled = ma.fields.Boolean(load_default=True)
    capacity = ma.fields.Integer(
        load_default=None,
        allow_none=True,
        validate=ma.validate.Range(min=1),
        metadata={"description": "Open conversations per agent without a capacity of their own"},
    )


class PolicyOut(Schema):
    channel_id = ma.fields.UUID(required=True)
    mode = ma.fields.String(required=True)
    enabled = ma.fields.Boolean(required=True)
    capacity = ma.fields.Integer(allow_none=True)


class AvailabilityIn(Schema):
    status = ma.fields.String(required=True, validate=ma.validate.OneOf(AVAILABILITY))


class CapacityIn(Schema):
    capacity = ma.fields.Integer(
        required=True,
        allow_none=True,
        validate=ma.validate.Range(min=0),
        metadata={"description": "Overrides the channel policies'; null follows them"},
    )


class AgentOut(Schema):
    user_id = ma.fields.UUID(required=True)
    name = ma.fields.String(required=True)
    email = ma.fields.String(required=True)
    status = ma.fields.String(required=True, metadata={"enum": list(AVAILABILITY)})
    capacity = ma.fields.Integer(allow_none=True, metadata={"description": "Own capacity"})
    load = ma.fields.Integer(
        required=True, metadata={"description": "Open, assigned and pending conversations"}
    )


class AgentList(Schema):
    items = ma.fields.List(ma.fields.Nested(AgentOut), required=True)


def _channel_or_404(channel_id: uuid.UUID) -> Channel:
    channel = get_channel(db.session, channel_id)
    if channel is None:
        fail(404, "channel_not_found", "No such channel.")
    return channel


def _agent_or_404(user_id: uuid.UUID):
    found = list_agents(db.session, account_id=g.account.id, user_id=user_id)
    if not found:
        fail(404, "member_not_found", "No such member.")
    return found[0]


@blp.route("/channels/<uuid:channel_id>/assignment-policy")
class ChannelAssignmentPolicy(MethodView):
    @blp.response(200, PolicyOut)
    @requires("conversations:read")
    def get(self, channel_id):
        """Read a channel's assignment policy (manual unless set)"""
        return get_policy(db.session, _channel_or_404(channel_id))

    @blp.arguments(PolicyIn)
    @blp.response(200, PolicyOut)
    @requires("channels:manage")
    def put(self, data, channel_id):
        """Set a channel's assignment policy

        Switching to an automatic mode assigns the channel's waiting conversations.
        """
        channel = _channel_or_404(channel_id)
        with refusals_answered():
            policy = set_policy(
                db.session, channel, account_id=g.account.id, actor=current_actor(), **data
            )
        db.session.commit()
        return policy


@blp.route("/agents")
class Agents(MethodView):
    @blp.response(200, AgentList)
    @requires("conversations:read")
    def get(self):
        """List members with their availability, capacity and open-conversation load"""
        return {"items": list_agents(db.session, account_id=g.account.id)}


@blp.route("/agents/me/availability")
class MyAvailability(MethodView):
    @blp.arguments(AvailabilityIn)
    @blp.response(200, AgentOut)
    @requires("conversations:read")
    def put(self, data):
        """Set your own availability: online, away or offline

        Only online agents are assigned conversations automatically.
        """
        with refusals_answered():
            set_availability(
                db.session,
                account_id=g.account.id,
                actor=current_actor(),
                user_id=g.user_id,
                **data,
            )
        db.session.commit()
        return _agent_or_404(g.user_id)


@blp.route("/agents/<uuid:user_id>/capacity")
class AgentCapacity(MethodView):
    @blp.arguments(CapacityIn)
    @blp.response(200, AgentOut)
    @requires("channels:manage")
    def put(self, data, user_id):
        """Set a member's own capacity, over the channel policies' (null removes it)"""
        _agent_or_404(user_id)
        with refusals_answered():
            set_capacity(
                db.session, account_id=g.account.id, actor=current_actor(), user_id=user_id, **data
            )
        db.session.commit()
        return _agent_or_404(user_id)
