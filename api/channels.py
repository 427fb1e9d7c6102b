"""Channels of the current account and the agents attached to their inboxes."""

from __future__ import annotations

import uuid
from functools import partial

import marshmallow as ma
from flask import g
from flask.views import MethodView
from sqlalchemy import select

from api.auth import audit_change, current_actor, requires, tenant_blueprint
from api.base import Schema
from api.errors import fail
from api.helpdesk_errors import refusals_answered
from audit.service import snapshot
from helpdesk.channels import (
    add_inbox_member,
    attach_team,
    create_channel,
    delete_channel,
    detach_team,
    get_channel,
    inbox_members,
    inbox_teams,
    public_config,
    remove_inbox_member,
    update_channel,
)
from helpdesk.models import CHANNEL_TYPES, Channel
from tenants.db import db

blp = tenant_blueprint("channels", __name__, "/channels", description="Helpdesk channels")


class ChannelIn(Schema):
    type = ma.fields.String(required=True, validate=ma.validate.OneOf(CHANNEL_TYPES))
    name = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=200))
    config = ma.fields.Dict(
        keys=ma.fields.String(validate=ma.validate.Length(min=1, max=100)),
        load_default=dict,
        metadata={"description": "Per-type settings; secret keys are write-only"},
    )
    enabled = ma.fields.Boolean(load_default=True)


class ChannelPatch(Schema):
    name = ma.fields.String(validate=ma.validate.Length(min=1, max=200))
    config = ma.fields.Dict(
        keys=ma.fields.String(validate=ma.validate.Length(min=1, max=100)),
        metadata={"description": "Merged key by key; null removes a key"},
    )
    enabled = ma.fields.Boolean()


class ChannelOut(Schema):
    id = ma.fields.UUID(required=True)
    type = ma.fields.String(required=True)
    name = ma.fields.String(required=True)
    config = ma.fields.Method(
        "_config",
        metadata={"type": "object", "description": 'Secrets appear as {"set": true}'},
    )
    enabled = ma.fields.Boolean(required=True)
    created_at = ma.fields.AwareDateTime(required=True)
    updated_at = ma.fields.AwareDateTime(required=True)

    def _config(self, channel):
        return public_config(channel)


class ChannelList(Schema):
    items = ma.fields.List(ma.fields.Nested(ChannelOut), required=True)


class InboxMemberIn(Schema):
    user_id = ma.fields.UUID(required=True)


class InboxMembers(Schema):
    user_ids = ma.fields.List(ma.fields.UUID(), required=True)


class InboxTeamIn(Schema):
    team_id = ma.fields.UUID(required=True)


class InboxTeams(Schema):
    team_ids = ma.fields.List(ma.fields.UUID(), required=True)


def _audited(channel: Channel) -> dict:
    """What the audit log keeps of a channel: secrets only as ``{"set": true}``."""
    return {**snapshot(channel, omit=("config",)), "config": public_config(channel)}


_log = partial(audit_change, "channel")


def _channel_or_404(channel_id: uuid.UUID) -> Channel:
    channel = get_channel(db.session, channel_id)
    if channel is None:
        fail(404, "channel_not_found", "No such channel.")
    return channel


@blp.route("")
class Channels(MethodView):
    @blp.response(200, ChannelList)
    @requires("conversations:read")
    def get(self):
        """List the account's channels"""
        items = db.session.scalars(select(Channel).order_by(Channel.created_at, Channel.id))
        return {"items": list(items)}

    @blp.arguments(ChannelIn)
    @blp.response(201, ChannelOut)
    @requires("channels:manage")
    def post(self, data):
        """Create a channel"""
        channel = create_channel(db.session, **data)
        _log("created", channel.id, after=_audited(channel))
        db.session.commit()
        return channel


@blp.route("/<uuid:channel_id>")
class ChannelById(MethodView):
    @blp.response(200, ChannelOut)
    @requires("conversations:read")
    def get(self, channel_id):
        """Read one channel"""
        return _channel_or_404(channel_id)

    @blp.arguments(ChannelPatch)
    @blp.response(200, ChannelOut)
    @requires("channels:manage")
    def patch(self, data, channel_id):
        """Change a channel (config is merged)"""
        channel = _channel_or_404(channel_id)
        before = _audited(channel)
        update_channel(db.session, channel, **data)
        _log("updated", channel.id, before=before, after=_audited(channel))
        db.session.commit()
        return channel

    @blp.response(204)
    @blp.errors(409)
    @requires("channels:manage")
    def delete(self, channel_id):
        """Delete a channel without conversations"""
        channel = _channel_or_404(channel_id)
        before = _audited(channel)
        with refusals_answered():
            delete_channel(db.session, channel)
        _log("deleted", channel_id, before=before)
        db.session.commit()


@blp.route("/<uuid:channel_id>/members")
class ChannelMembers(MethodView):
    @blp.response(200, InboxMembers)
    @requires("conversations:read")
    def get(self, channel_id):
        """List the agents attached to a channel's inbox"""
        return {"user_ids": inbox_members(db.session, _channel_or_404(channel_id))}

    @blp.arguments(InboxMemberIn)
    @blp.response(200, InboxMembers)
    @requires("channels:manage")
    def post(self, data, channel_id):
        """Attach a member to a channel's inbox"""
        channel = _channel_or_404(channel_id)
        with refusals_answered():
            added = add_inbox_member(
                db.session, channel, account_id=g.account.id, actor=current_actor(), **data
            )
        if added:
            _log("member_added", channel.id, after={"user_id": data["user_id"]})
        db.session.commit()
        return {"user_ids": inbox_members(db.session, channel)}


@blp.route("/<uuid:channel_id>/members/<uuid:user_id>")
class ChannelMember(MethodView):
    @blp.response(204)
    @requires("channels:manage")
    def delete(self, channel_id, user_id):
        """Detach a member from a channel's inbox"""
        if not remove_inbox_member(db.session, _channel_or_404(channel_id), user_id=user_id):
            fail(404, "inbox_member_not_found", "That user is not attached to this channel.")
        _log("member_removed", channel_id, before={"user_id": user_id})
        db.session.commit()


@blp.route("/<uuid:channel_id>/teams")
class ChannelTeams(MethodView):
    @blp.response(200, InboxTeams)
    @requires("conversations:read")
    def get(self, channel_id):
        """List the teams attached to a channel's inbox"""
        return {"team_ids": inbox_teams(db.session, _channel_or_404(channel_id))}

    @blp.arguments(InboxTeamIn)
    @blp.response(200, InboxTeams)
    @requires("channels:manage")
    def post(self, data, channel_id):
        """Attach a team to a channel's inbox (its members work the inbox)"""
        channel = _channel_or_404(channel_id)
        with refusals_answered():
            attached = attach_team(
                db.session, channel, account_id=g.account.id, actor=current_actor(), **data
            )
        if attached:
            _log("team_attached", channel.id, after={"team_id": data["team_id"]})
        db.session.commit()
        return {"team_ids": inbox_teams(db.session, channel)}


@blp.route("/<uuid:channel_id>/teams/<uuid:team_id>")
class ChannelTeam(MethodView):
    @blp.response(204)
    @requires("channels:manage")
    def delete(self, channel_id, team_id):
        """Detach a team from a channel's inbox"""
        if not detach_team(db.session, _channel_or_404(channel_id), team_id=team_id):
            fail(404, "inbox_team_not_found", "That team is not attached to this channel.")
        _log("team_detached", channel_id, before={"team_id": team_id})
        db.session.commit()
