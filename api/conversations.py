"""Conversations of the current account: lifecycle, assignment and messages."""

from __future__ import annotations

import uuid
from datetime import datetime

import marshmallow as ma
from flask import g
from flask.views import MethodView
from sqlalchemy import select

from api.auth import current_actor, requires, tenant_blueprint
from api.base import Schema
from api.errors import fail
from api.helpdesk_errors import fail_for
from api.listing import ORDERED_OPS, Field, ListArgs, Listing, page_schema, paginate
from helpdesk import states
from helpdesk.conversations import (
    assign,
    change_status,
    create_conversation,
    get_conversation,
    update_conversation,
)
from helpdesk.errors import HelpdeskError
from helpdesk.messages import MAX_LIMIT, list_messages, post_message
from helpdesk.models import (
    DELIVERY_STATUSES,
    DIRECTIONS,
    PRIORITIES,
    SENDER_TYPES,
    Conversation,
)
from tenants.db import db

blp = tenant_blueprint(
    "conversations", __name__, "/conversations", description="Helpdesk conversations"
)

IDS = ("eq", "ne", "in", "isnull")
LISTING = Listing(
    fields={
        "status": Field(Conversation.status, str, ("eq", "ne", "in"), sortable=False),
        "priority": Field(Conversation.priority, str, ("eq", "ne", "in")),
        "assignee_id": Field(Conversation.assignee_id, uuid.UUID, IDS, sortable=False),
        "team_id": Field(Conversation.team_id, uuid.UUID, IDS, sortable=False),
        "channel_id": Field(Conversation.channel_id, uuid.UUID, IDS, sortable=False),
        "contact_id": Field(Conversation.contact_id, uuid.UUID, IDS, sortable=False),
        "created_at": Field(Conversation.created_at, datetime, ORDERED_OPS),
        "last_activity_at": Field(Conversation.last_activity_at, datetime, ORDERED_OPS),
    },
    default_sort="-last_activity_at",
    tiebreak=Conversation.id,
)


class ConversationIn(Schema):
    channel_id = ma.fields.UUID(required=True)
    contact_id = ma.fields.UUID(required=True)
    subject = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=500))
    priority = ma.fields.String(load_default="none", validate=ma.validate.OneOf(PRIORITIES))
    team_id = ma.fields.UUID(allow_none=True)
    assignee_id = ma.fields.UUID(allow_none=True)


class ConversationPatch(Schema):
    subject = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=500))
    priority = ma.fields.String(validate=ma.validate.OneOf(PRIORITIES))
    team_id = ma.fields.UUID(allow_none=True)


class ConversationOut(Schema):
    id = ma.fields.UUID(required=True)
    channel_id = ma.fields.UUID(required=True)
    contact_id = ma.fields.UUID(required=True)
    status = ma.fields.String(required=True)
    priority = ma.fields.String(required=True)
    assignee_id = ma.fields.UUID(allow_none=True)
    team_id = ma.fields.UUID(allow_none=True)
    subject = ma.fields.String(allow_none=True)
    snoozed_until = ma.fields.AwareDateTime(allow_none=True)
    created_at = ma.fields.AwareDateTime(required=True)
    updated_at = ma.fields.AwareDateTime(required=True)
    last_activity_at = ma.fields.AwareDateTime(required=True)
    first_reply_at = ma.fields.AwareDateTime(allow_none=True)
    waiting_since = ma.fields.AwareDateTime(allow_none=True)
    resolved_at = ma.fields.AwareDateTime(allow_none=True)


ConversationPage = page_schema(ConversationOut, "ConversationPage")


class StatusIn(Schema):
    status = ma.fields.String(required=True, validate=ma.validate.OneOf(states.STATUSES))
    snoozed_until = ma.fields.AwareDateTime(allow_none=True)


class AssignIn(Schema):
    assignee_id = ma.fields.UUID(required=True, allow_none=True)


class MessageIn(Schema):
    direction = ma.fields.String(required=True, validate=ma.validate.OneOf(DIRECTIONS))
    sender_type = ma.fields.String(required=True, validate=ma.validate.OneOf(SENDER_TYPES))
    sender_id = ma.fields.UUID(
        allow_none=True, metadata={"description": "Defaults to the caller for agents"}
    )
    body = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=100_000))
    private = ma.fields.Boolean(load_default=False, metadata={"description": "A private note"})
    metadata = ma.fields.Dict(keys=ma.fields.String(), load_default=dict)
    delivery_status = ma.fields.String(
        allow_none=True, validate=ma.validate.OneOf(DELIVERY_STATUSES)
    )
    failure_reason = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=500))


class MessageOut(Schema):
    id = ma.fields.UUID(required=True)
    conversation_id = ma.fields.UUID(required=True)
    direction = ma.fields.String(required=True)
    sender_type = ma.fields.String(required=True)
    sender_id = ma.fields.UUID(allow_none=True)
    body = ma.fields.String(required=True)
    private = ma.fields.Boolean(required=True)
    metadata = ma.fields.Dict(attribute="meta", required=True)
    delivery_status = ma.fields.String(required=True)
    failure_reason = ma.fields.String(allow_none=True)
    created_at = ma.fields.AwareDateTime(required=True)


class MessageArgs(Schema):
    before = ma.fields.UUID(metadata={"description": "Messages older than this one"})
    after = ma.fields.UUID(metadata={"description": "Messages newer than this one"})
    limit = ma.fields.Integer(load_default=50, validate=ma.validate.Range(min=1, max=MAX_LIMIT))


class MessagePage(Schema):
    items = ma.fields.List(ma.fields.Nested(MessageOut), required=True)
    has_more = ma.fields.Boolean(required=True)


def _conversation_or_404(conversation_id: uuid.UUID) -> Conversation:
    conversation = get_conversation(db.session, conversation_id)
    if conversation is None:
        fail(404, "conversation_not_found", "No such conversation.")
    return conversation


def _context() -> dict:
    return {"account_id": g.account.id, "actor": current_actor()}


@blp.route("")
class Conversations(MethodView):
    @blp.arguments(ListArgs, location="query")
    @blp.response(200, ConversationPage)
    @blp.errors(400)
    @requires("conversations:read")
    def get(self, args):
        """List conversations with filters, sorting and pagination"""
        return paginate(db.session, select(Conversation), LISTING, args)

    @blp.arguments(ConversationIn)
    @blp.response(201, ConversationOut)
    @requires("conversations:write")
    def post(self, data):
        """Open a conversation"""
        try:
            conversation = create_conversation(db.session, **_context(), **data)
        except HelpdeskError as exc:
            fail_for(exc)
        db.session.commit()
        return conversation


@blp.route("/<uuid:conversation_id>")
class ConversationById(MethodView):
    @blp.response(200, ConversationOut)
    @requires("conversations:read")
    def get(self, conversation_id):
        """Read one conversation"""
        return _conversation_or_404(conversation_id)

    @blp.arguments(ConversationPatch)
    @blp.response(200, ConversationOut)
    @requires("conversations:write")
    def patch(self, data, conversation_id):
        """Change subject, priority or team"""
        conversation = _conversation_or_404(conversation_id)
        try:
            update_conversation(db.session, conversation, **_context(), **data)
        except HelpdeskError as exc:
            fail_for(exc)
        db.session.commit()
        return conversation


@blp.route("/<uuid:conversation_id>/status")
class ConversationStatus(MethodView):
    @blp.arguments(StatusIn)
    @blp.response(200, ConversationOut)
    @blp.errors(409)
    @requires("conversations:write")
    def post(self, data, conversation_id):
        """Move a conversation along its lifecycle

        Illegal moves answer `409 illegal_transition` with `errors.status` listing the
        statuses allowed from the current one.
        """
        conversation = _conversation_or_404(conversation_id)
        try:
            change_status(db.session, conversation, **_context(), **data)
        except states.IllegalTransition as exc:
            fail(
                409,
                "illegal_transition",
                f"A {exc.current} conversation cannot become {exc.target}; allowed: "
                f"{', '.join(exc.allowed) or 'none'}.",
                errors={"status": list(exc.allowed)},
            )
        except HelpdeskError as exc:
            fail_for(exc)
        db.session.commit()
        return conversation


@blp.route("/<uuid:conversation_id>/assign")
class ConversationAssignment(MethodView):
    @blp.arguments(AssignIn)
    @blp.response(200, ConversationOut)
    @requires("conversations:assign")
    def post(self, data, conversation_id):
        """Assign a conversation to a member, or unassign it with null"""
        conversation = _conversation_or_404(conversation_id)
        try:
            assign(db.session, conversation, **_context(), **data)
        except HelpdeskError as exc:
            fail_for(exc)
        db.session.commit()
        return conversation


@blp.route("/<uuid:conversation_id>/messages")
class ConversationMessages(MethodView):
    @blp.arguments(MessageArgs, location="query")
    @blp.response(200, MessagePage)
    @requires("conversations:read")
    def get(self, args, conversation_id):
        """List a conversation's messages, oldest first, by cursor"""
        conversation = _conversation_or_404(conversation_id)
        try:
            items, has_more = list_messages(db.session, conversation, **args)
        except HelpdeskError as exc:
            fail_for(exc)
        return {"items": items, "has_more": has_more}

    @blp.arguments(MessageIn)
    @blp.response(201, MessageOut)
    @requires("conversations:write")
    def post(self, data, conversation_id):
        """Add a message or a private note to a conversation"""
        conversation = _conversation_or_404(conversation_id)
        if data["sender_type"] == "agent" and data.get("sender_id") is None:
            data["sender_id"] = g.get("user_id")
        try:
            message = post_message(db.session, conversation, **_context(), **data)
        except HelpdeskError as exc:
            fail_for(exc)
        db.session.commit()
        return message
