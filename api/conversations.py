"""Conversations of the current account: lifecycle, assignment, messages, tags, merge and
split, and the activity timeline."""

from __future__ import annotations

import uuid
from datetime import datetime

import marshmallow as ma
from flask import g
from flask.views import MethodView
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from api.auth import acting, requires, tenant_blueprint
from api.base import Schema
from api.custom_fields import listing_fields, values_in, values_out
from api.errors import fail
from api.helpdesk_errors import fail_for, refusals_answered
from api.listing import ORDERED_OPS, Field, ListArgs, Listing, page_schema, paginate
from api.tags import TagNamesIn
from helpdesk import states
from helpdesk.activity import MAX_LIMIT as MAX_ACTIVITY_LIMIT
from helpdesk.activity import list_activity
from helpdesk.conversations import (
    assign,
    change_status,
    create_conversation,
    get_conversation,
    update_conversation,
)
from helpdesk.errors import HelpdeskError
from helpdesk.merging import merge_conversations, split_conversation
from helpdesk.messages import (
    MAX_LIMIT,
    get_message,
    list_messages,
    post_message,
    update_delivery,
)
from helpdesk.models import (
    DELIVERY_STATUSES,
    DIRECTIONS,
    PRIORITIES,
    SENDER_TYPES,
    Conversation,
)
from helpdesk.reading import mark_read
from helpdesk.tags import CONVERSATIONS, add_tags, conversations_tagged, find_tag, remove_tag
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
    custom_fields = values_in("conversation")


class ConversationListArgs(ListArgs):
    tag = ma.fields.List(
        ma.fields.String(),
        load_default=list,
        metadata={"description": "A tag name; repeatable: conversations carrying all of them"},
    )


class ConversationPatch(Schema):
    subject = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=500))
    priority = ma.fields.String(validate=ma.validate.OneOf(PRIORITIES))
    team_id = ma.fields.UUID(allow_none=True)
    muted = ma.fields.Boolean(
        metadata={"description": "Muted: the contact's new messages neither wake nor reopen it"}
    )
    custom_attributes = ma.fields.Dict(
        keys=ma.fields.String(),
        metadata={
            "description": "Merged into the current ones key by key; `null` removes a key. "
            "Keys `[a-z0-9_]{1,64}`, at most 50; values are strings, numbers, booleans or "
            "lists of them"
        },
    )
    custom_fields = values_in("conversation")


class TagRef(Schema):
    name = ma.fields.String(required=True)


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
    tags = ma.fields.Pluck(
        TagRef, "name", many=True, required=True, metadata={"description": "Sorted by name"}
    )
    custom_attributes = ma.fields.Dict(required=True)
    custom_fields = values_out()
    merged_into_id = ma.fields.UUID(
        allow_none=True, metadata={"description": "Set once merged into that conversation"}
    )
    muted = ma.fields.Boolean(required=True)


ConversationPage = page_schema(ConversationOut, "ConversationPage")


class StatusIn(Schema):
    status = ma.fields.String(required=True, validate=ma.validate.OneOf(states.STATUSES))
    snoozed_until = ma.fields.AwareDateTime(
        allow_none=True,
        metadata={
            "description": "For `snoozed`: a future time, or none to snooze until the "
            "contact's next message"
        },
    )


class AssignIn(Schema):
    assignee_id = ma.fields.UUID(required=True, allow_none=True)


class MessageIn(Schema):
    direction = ma.fields.String(required=True, validate=ma.validate.OneOf(DIRECTIONS))
    sender_type = ma.fields.String(required=True, validate=ma.validate.OneOf(SENDER_TYPES))
    sender_id = ma.fields.UUID(
        allow_none=True, metadata={"description": "Defaults to the caller for agents"}
    )
    body = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=100_000))
    html = ma.fields.String(
        allow_none=True,
        validate=ma.validate.Length(max=500_000),
        metadata={
            "description": "An HTML version of `body`, kept sanitised as `body_html` (no "
            "scripts, event handlers or `javascript:` URLs; links get "
            '`rel="noopener noreferrer"`)'
        },
    )
    private = ma.fields.Boolean(load_default=False, metadata={"description": "A private note"})
    mentions = ma.fields.List(
        ma.fields.UUID(),
        load_default=list,
        validate=ma.validate.Length(max=100),
        metadata={"description": "Members @mentioned (outbound messages only)"},
    )
    metadata = ma.fields.Dict(keys=ma.fields.String(), load_default=dict)
    delivery_status = ma.fields.String(
        allow_none=True, validate=ma.validate.OneOf(DELIVERY_STATUSES)
    )
    failure_reason = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=500))


class MentionOut(Schema):
    user_id = ma.fields.UUID(required=True)


class MessageOut(Schema):
    id = ma.fields.UUID(required=True)
    conversation_id = ma.fields.UUID(required=True)
    direction = ma.fields.String(required=True)
    sender_type = ma.fields.String(required=True)
    sender_id = ma.fields.UUID(allow_none=True)
    body = ma.fields.String(required=True)
    body_html = ma.fields.String(allow_none=True)
    private = ma.fields.Boolean(required=True)
    mentions = ma.fields.Pluck(
        MentionOut, "user_id", many=True, metadata={"description": "Members @mentioned"}
    )
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


class DeliveryIn(Schema):
    delivery_status = ma.fields.String(required=True, validate=ma.validate.OneOf(DELIVERY_STATUSES))
    failure_reason = ma.fields.String(
        allow_none=True,
        validate=ma.validate.Length(min=1, max=500),
        metadata={"description": "Required for `failed`, refused otherwise"},
    )


class ReadIn(Schema):
    up_to_message_id = ma.fields.UUID(
        allow_none=True, metadata={"description": "Defaults to the newest message"}
    )


class ReadOut(Schema):
    conversation_id = ma.fields.UUID(required=True)
    user_id = ma.fields.UUID(required=True)
    last_read_at = ma.fields.AwareDateTime(
        allow_none=True, metadata={"description": "None while nothing was ever read"}
    )
    unread_count = ma.fields.Integer(required=True)


class MergeIn(Schema):
    source_id = ma.fields.UUID(
        required=True,
        metadata={"description": "The conversation to merge into this one (it gets closed)"},
    )
    allow_different_contacts = ma.fields.Boolean(
        load_default=False,
        metadata={"description": "Merge even though the two conversations' contacts differ"},
    )


class SplitIn(Schema):
    message_id = ma.fields.UUID(
        required=True,
        metadata={"description": "The first message of the new conversation (not the first one)"},
    )
    subject = ma.fields.String(
        allow_none=True,
        validate=ma.validate.Length(max=500),
        metadata={"description": "Defaults to the original conversation's"},
    )


class ActivityArgs(Schema):
    after = ma.fields.UUID(metadata={"description": "Entries newer than this one"})
    limit = ma.fields.Integer(
        load_default=50, validate=ma.validate.Range(min=1, max=MAX_ACTIVITY_LIMIT)
    )


class ActorOut(Schema):
    type = ma.fields.String(
        required=True, metadata={"description": "`user`, `api_token`, `automation` or `system`"}
    )
    id = ma.fields.UUID(allow_none=True, metadata={"description": "None for the system"})


class ActivityOut(Schema):
    id = ma.fields.UUID(required=True)
    event = ma.fields.String(required=True, metadata={"description": "The event's name"})
    actor = ma.fields.Nested(ActorOut, required=True)
    data = ma.fields.Dict(
        required=True,
        metadata={"description": "The event's payload: changed fields as `[before, after]`"},
    )
    created_at = ma.fields.AwareDateTime(required=True)


class ActivityPage(Schema):
    items = ma.fields.List(ma.fields.Nested(ActivityOut), required=True)
    has_more = ma.fields.Boolean(required=True)


def _conversation_or_404(conversation_id: uuid.UUID) -> Conversation:
    conversation = get_conversation(db.session, conversation_id)
    if conversation is None:
        fail(404, "conversation_not_found", "No such conversation.")
    return conversation


@blp.route("")
class Conversations(MethodView):
    @blp.arguments(ConversationListArgs, location="query")
    @blp.response(200, ConversationPage)
    @blp.errors(400)
    @requires("conversations:read")
    def get(self, args):
        """List conversations with filters, sorting and pagination

        Custom fields filter and sort as `custom_fields.<key>`.
        """
        query = select(Conversation).options(selectinload(Conversation.tags))
        if args["tag"]:
            query = query.where(Conversation.id.in_(conversations_tagged(args["tag"])))
        listing = LISTING.with_fields(listing_fields("conversation", Conversation.custom_fields))
        return paginate(db.session, query, listing, args)

    @blp.arguments(ConversationIn)
    @blp.response(201, ConversationOut)
    @requires("conversations:write")
    def post(self, data):
        """Open a conversation"""
        with refusals_answered():
            conversation = create_conversation(db.session, **acting(), require_fields=True, **data)
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
        """Change subject, priority, team, custom attributes or fields, or mute it"""
        conversation = _conversation_or_404(conversation_id)
        with refusals_answered():
            update_conversation(db.session, conversation, **acting(), **data)
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
            change_status(db.session, conversation, **acting(), **data)
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
        with refusals_answered():
            assign(db.session, conversation, **acting(), **data)
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
        with refusals_answered():
            items, has_more = list_messages(db.session, conversation, **args)
        return {"items": items, "has_more": has_more}

    @blp.arguments(MessageIn)
    @blp.response(201, MessageOut)
    @blp.errors(409)
    @requires("conversations:write")
    def post(self, data, conversation_id):
        """Add a message or a private note to a conversation

        An inbound message wakes a snoozed conversation and reopens a resolved one; to a
        closed conversation it answers `409 conversation_closed` (start a new one).
        """
        if data["sender_type"] == "agent" and data.get("sender_id") is None:
            data["sender_id"] = g.get("user_id")
        with refusals_answered():
            return post_message(db.session, conversation_id, **acting(), **data, commit=True)


@blp.route("/<uuid:conversation_id>/messages/<uuid:message_id>")
class ConversationMessage(MethodView):
    @blp.arguments(DeliveryIn)
    @blp.response(200, MessageOut)
    @blp.errors(409)
    @requires("conversations:write")
    def patch(self, data, conversation_id, message_id):
        """Record a message's delivery: queued, sent, then delivered or failed

        Delivery only moves forward (`409 illegal_transition` otherwise); `failed` needs a
        `failure_reason`.
        """
        message = get_message(db.session, _conversation_or_404(conversation_id), message_id)
        if message is None:
            fail(404, "message_not_found", "No such message.")
        with refusals_answered():
            update_delivery(db.session, message, **acting(), **data)
        db.session.commit()
        return message


@blp.route("/<uuid:conversation_id>/read")
class ConversationRead(MethodView):
    @blp.arguments(ReadIn)
    @blp.response(200, ReadOut)
    @requires("conversations:read")
    def post(self, data, conversation_id):
        """Mark a conversation read by the caller, up to a message or the newest one

        Unread messages are inbound ones and other people's replies and notes after the
        caller's read mark; the mark never moves back.
        """
        conversation = _conversation_or_404(conversation_id)
        with refusals_answered():
            state = mark_read(
                db.session, conversation, **acting(), user_id=g.get("user_id"), **data
            )
        db.session.commit()
        return state


@blp.route("/<uuid:conversation_id>/tags")
class ConversationTags(MethodView):
    @blp.arguments(TagNamesIn)
    @blp.response(200, ConversationOut)
    @requires("conversations:write")
    def post(self, data, conversation_id):
        """Tag a conversation

        Names are matched ignoring case and spacing; a name no tag has yet becomes a new
        tag. Tags the conversation already carries stay as they are (no event).
        """
        conversation = _conversation_or_404(conversation_id)
        with refusals_answered():
            add_tags(db.session, CONVERSATIONS, conversation.id, **acting(), names=data["tags"])
        db.session.commit()
        return conversation


@blp.route("/<uuid:conversation_id>/tags/<tag>")
class ConversationTagByName(MethodView):
    @blp.response(204)
    @requires("conversations:write")
    def delete(self, conversation_id, tag):
        """Remove a tag, named by its name or id, from a conversation"""
        conversation = _conversation_or_404(conversation_id)
        found = find_tag(db.session, tag)
        if found is None or not remove_tag(
            db.session, CONVERSATIONS, conversation.id, found, **acting()
        ):
            fail(404, "tag_not_found", "The conversation does not carry this tag.")
        db.session.commit()


@blp.route("/<uuid:conversation_id>/merge")
class ConversationMerge(MethodView):
    @blp.arguments(MergeIn)
    @blp.response(200, ConversationOut)
    @blp.errors(409)
    @requires("conversations:write")
    def post(self, data, conversation_id):
        """Merge another conversation into this one

        The source's messages, activity and tags move here; the source is closed with
        `merged_into_id` pointing here. Refused with 409: `merge_into_self`,
        `conversation_closed` or `conversation_merged` (for either side) and
        `contacts_differ` (unless `allow_different_contacts`).
        """
        target = _conversation_or_404(conversation_id)
        with refusals_answered():
            merge_conversations(db.session, target, **acting(), **data)
        db.session.commit()
        return target


@blp.route("/<uuid:conversation_id>/split")
class ConversationSplit(MethodView):
    @blp.arguments(SplitIn)
    @blp.response(201, ConversationOut)
    @blp.errors(409)
    @requires("conversations:write")
    def post(self, data, conversation_id):
        """Split a conversation: a message and every later one move to a new conversation

        The new conversation (returned) keeps the channel, contact, priority, team and tags
        and starts open and unassigned. Splitting at the first message is a 422;
        splitting a closed conversation a `409 conversation_closed`.
        """
        conversation = _conversation_or_404(conversation_id)
        with refusals_answered():
            split = split_conversation(db.session, conversation, **acting(), **data)
        db.session.commit()
        return split


@blp.route("/<uuid:conversation_id>/activity")
class ConversationTimeline(MethodView):
    @blp.arguments(ActivityArgs, location="query")
    @blp.response(200, ActivityPage)
    @requires("conversations:read")
    def get(self, args, conversation_id):
        """List a conversation's activity timeline, oldest first, by cursor

        Every status, assignment, tag, field, merge and split event, with its actor.
        """
        conversation = _conversation_or_404(conversation_id)
        with refusals_answered():
            entries, has_more = list_activity(db.session, conversation.id, **args)
        items = [
            {
                "id": entry.id,
                "event": entry.event,
                "actor": {"type": entry.actor_type, "id": entry.actor_id},
                "data": entry.data,
                "created_at": entry.created_at,
            }
            for entry in entries
        ]
        return {"items": items, "has_more": has_more}
