"""The agent's inbox: conversations by tab with per-tab counts."""

from __future__ import annotations

import marshmallow as ma
from flask import g
from flask.views import MethodView

from api.auth import requires, tenant_blueprint
from api.base import Schema
from api.conversations import ConversationOut
from api.listing import PageMeta
from helpdesk import states
from helpdesk.inbox import DEFAULT_SORT, SORTS, TABS, WORKING_STATUSES, list_inbox
from helpdesk.models import PRIORITIES
from tenants.db import db

blp = tenant_blueprint("inbox", __name__, "/inbox", description="The agent's inbox")


class InboxArgs(Schema):
    tab = ma.fields.String(
        load_default="all",
        validate=ma.validate.OneOf(TABS),
        metadata={
            "description": "`mine` (assigned to the caller), `unassigned`, `all` (every "
            "conversation with `conversations:read_all`, else those of the caller's channel "
            "inboxes and teams and those assigned to them) or `mentions` (where the caller "
            "was @mentioned)"
        },
    )
    status = ma.fields.List(
        ma.fields.String(validate=ma.validate.OneOf(states.STATUSES)),
        metadata={
            "description": "Repeatable. Defaults to the working statuses: "
            + ", ".join(WORKING_STATUSES)
        },
    )
    channel_id = ma.fields.UUID()
    team_id = ma.fields.UUID()
    priority = ma.fields.List(
        ma.fields.String(validate=ma.validate.OneOf(PRIORITIES)),
        metadata={"description": "Repeatable"},
    )
    tag = ma.fields.List(
        ma.fields.String(),
        metadata={"description": "A tag name; repeatable: conversations carrying all of them"},
    )
    sort = ma.fields.String(load_default=DEFAULT_SORT, validate=ma.validate.OneOf(tuple(SORTS)))
    page = ma.fields.Integer(load_default=1, validate=ma.validate.Range(min=1))
    per_page = ma.fields.Integer(load_default=25, validate=ma.validate.Range(min=1, max=100))


class InboxItem(ConversationOut):
    contact_name = ma.fields.String(required=True)
    last_message_preview = ma.fields.String(
        allow_none=True, metadata={"description": "The start of the newest message or note"}
    )
    unread_count = ma.fields.Integer(
        required=True,
        metadata={
            "description": "Messages the caller has not read: inbound ones and other "
            "people's replies and notes after the caller's read mark"
        },
    )


class TabCounts(ma.Schema):
    mine = ma.fields.Integer(required=True)
    unassigned = ma.fields.Integer(required=True)
    all = ma.fields.Integer(required=True)
    mentions = ma.fields.Integer(required=True)


class InboxCounts(TabCounts):
    unread = ma.fields.Nested(
        TabCounts,
        required=True,
        metadata={"description": "Per tab, the conversations with messages unread by the caller"},
    )


class InboxPage(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(InboxItem), required=True)
    meta = ma.fields.Nested(PageMeta, required=True)
    counts = ma.fields.Nested(
        InboxCounts,
        required=True,
        metadata={"description": "Per tab, under the same filters (the tab aside)"},
    )


@blp.route("")
class Inbox(MethodView):
    @blp.arguments(InboxArgs, location="query")
    @blp.response(200, InboxPage)
    @requires("conversations:read")
    def get(self, args):
        """List the inbox: one tab of conversations with the counts of every tab

        Filters (`status`, `channel_id`, `team_id`, `priority`, `tag`) apply to the items and to
        `counts`; the tab only to the items. Without `status`, resolved and closed
        conversations are left out.

        The `all` tab (and its count) shows every conversation only to callers with
        `conversations:read_all` (owners and admins); for the others it covers the
        conversations of the channel inboxes and teams they belong to and those assigned
        to them. `unassigned` is the shared queue, open to every reader.
        """
        return list_inbox(
            db.session,
            user_id=g.get("user_id"),
            tab=args["tab"],
            read_all="conversations:read_all" in g.permissions,
            statuses=args.get("status"),
            channel_id=args.get("channel_id"),
            team_id=args.get("team_id"),
            priorities=args.get("priority"),
            tags=args.get("tag"),
            sort=args["sort"],
            page=args["page"],
            per_page=args["per_page"],
        )
