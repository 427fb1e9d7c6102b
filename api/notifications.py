"""The caller's notifications in the current account: list, count, mark read, delete.

Every route concerns the caller's own notifications only: another member's (whoever asks,
owners included) answers ``404 notification_not_found``, as one that does not exist. The
rules, and how notifications are made from events, live in :mod:`helpdesk.notifications`.
"""

from __future__ import annotations

import marshmallow as ma
from flask import g
from flask.views import MethodView

from api.auth import requires, tenant_blueprint
from api.base import Schema
from api.conversations import ActorOut
from api.helpdesk_errors import refusals_answered
from helpdesk.notifications import (
    MAX_LIMIT,
    TYPES,
    Notification,
    delete_notification,
    get_notification,
    list_notifications,
    mark_all_read,
    mark_read,
    mark_unread,
    publish_read,
    unread_count,
)
from tenants.db import db

blp = tenant_blueprint(
    "notifications", __name__, "/notifications", description="The caller's notifications"
)


class NotificationArgs(Schema):
    unread = ma.fields.Boolean(load_default=False, metadata={"description": "Only the unread ones"})
    type = ma.fields.List(
        ma.fields.String(validate=ma.validate.OneOf(TYPES)),
        metadata={"description": "Repeatable: " + ", ".join(f"`{t}`" for t in TYPES)},
    )
    conversation_id = ma.fields.UUID(metadata={"description": "Only those about it"})
    before = ma.fields.UUID(metadata={"description": "Notifications older than this one"})
    limit = ma.fields.Integer(load_default=25, validate=ma.validate.Range(min=1, max=MAX_LIMIT))


class NotificationOut(Schema):
    id = ma.fields.UUID(required=True)
    type = ma.fields.String(
        required=True, metadata={"description": ", ".join(f"`{t}`" for t in TYPES)}
    )
    conversation_id = ma.fields.UUID(allow_none=True)
    message_id = ma.fields.UUID(
        allow_none=True, metadata={"description": "The message that mentioned or arrived"}
    )
    actor = ma.fields.Nested(ActorOut, required=True, metadata={"description": "Who caused it"})
    data = ma.fields.Dict(
        required=True,
        metadata={
            "description": "For display, as it was when made: `subject`, `contact_name`, "
            "`actor_name` (a user's), `preview` (the message's start), `policy` (automatic "
            "assignment's)"
        },
    )
    read_at = ma.fields.AwareDateTime(allow_none=True, metadata={"description": "None: unread"})
    created_at = ma.fields.AwareDateTime(required=True)


class NotificationPage(Schema):
    items = ma.fields.List(ma.fields.Nested(NotificationOut), required=True)
    has_more = ma.fields.Boolean(required=True, metadata={"description": "Older ones remain"})
    unread_count = ma.fields.Integer(
        required=True, metadata={"description": "All the caller's unread notifications"}
    )


class UnreadCountOut(Schema):
    unread_count = ma.fields.Integer(required=True)


class ReadAllIn(Schema):
    conversation_id = ma.fields.UUID(
        allow_none=True, metadata={"description": "Only those about this conversation"}
    )


class ReadAllOut(Schema):
    marked = ma.fields.Integer(required=True, metadata={"description": "How many became read"})
    unread_count = ma.fields.Integer(required=True)


def _mine(notification_id) -> Notification:
    with refusals_answered():
        return get_notification(db.session, user_id=g.user_id, notification_id=notification_id)


def _commit_read(ids: list) -> int:
    """Commit, then tell the caller's other tabs which notifications are read now."""
    unread = unread_count(db.session, user_id=g.user_id)
    db.session.commit()
    if ids:
        publish_read(g.account.id, g.user_id, ids, unread)
    return unread


@blp.route("")
class Notifications(MethodView):
    @blp.arguments(NotificationArgs, location="query")
    @blp.response(200, NotificationPage)
    @requires("conversations:read")
    def get(self, args):
        """List the caller's notifications, newest first, by cursor

        `before` (a notification of this list) pages to older ones; `has_more` tells
        whether any remain.
        """
        with refusals_answered():
            items, has_more = list_notifications(
                db.session,
                user_id=g.user_id,
                unread=args["unread"],
                types=args.get("type"),
                conversation_id=args.get("conversation_id"),
                before=args.get("before"),
                limit=args["limit"],
            )
        unread = unread_count(db.session, user_id=g.user_id)
        return {"items": items, "has_more": has_more, "unread_count": unread}


@blp.route("/unread-count")
class UnreadCount(MethodView):
    @blp.response(200, UnreadCountOut)
    @requires("conversations:read")
    def get(self):
        """Count the caller's unread notifications (the badge)"""
        return {"unread_count": unread_count(db.session, user_id=g.user_id)}


@blp.route("/read")
class ReadAll(MethodView):
    @blp.arguments(ReadAllIn)
    @blp.response(200, ReadAllOut)
    @requires("conversations:read")
    def post(self, data):
        """Mark all the caller's notifications read (or all about one conversation)

        The caller's connected tabs hear `notification.read`.
        """
        ids = mark_all_read(
            db.session, user_id=g.user_id, conversation_id=data.get("conversation_id")
        )
        return {"marked": len(ids), "unread_count": _commit_read(ids)}


@blp.route("/<uuid:notification_id>")
class NotificationById(MethodView):
    @blp.response(200, NotificationOut)
    @requires("conversations:read")
    def get(self, notification_id):
        """Read one of the caller's notifications"""
        return _mine(notification_id)

    @blp.response(204)
    @requires("conversations:read")
    def delete(self, notification_id):
        """Delete one of the caller's notifications"""
        notification = _mine(notification_id)
        delete_notification(db.session, notification)
        db.session.commit()


@blp.route("/<uuid:notification_id>/read")
class NotificationRead(MethodView):
    @blp.response(200, NotificationOut)
    @requires("conversations:read")
    def post(self, notification_id):
        """Mark one of the caller's notifications read (again: no change)"""
        notification = _mine(notification_id)
        newly = notification.read_at is None
        mark_read(db.session, notification)
        _commit_read([notification.id] if newly else [])
        return notification


@blp.route("/<uuid:notification_id>/unread")
class NotificationUnread(MethodView):
    @blp.response(200, NotificationOut)
    @requires("conversations:read")
    def post(self, notification_id):
        """Mark one of the caller's notifications unread again"""
        notification = _mine(notification_id)
        mark_unread(db.session, notification)
        db.session.commit()
        return notification
