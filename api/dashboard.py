"""The console's dashboard: the account's figures for the caller, in one call."""

from __future__ import annotations

import marshmallow as ma
from flask import g
from flask.views import MethodView

from api.auth import requires, tenant_blueprint
from api.base import Schema
from helpdesk.dashboard import ACTIVE_STATUSES, dashboard
from tenants.db import db

blp = tenant_blueprint("dashboard", __name__, "/dashboard", description="The console's dashboard")

_ACTIVE = ", ".join(ACTIVE_STATUSES)


class ConversationFigures(Schema):
    open = ma.fields.Integer(
        required=True,
        metadata={"description": f"The inbox's `all` tab count under the statuses {_ACTIVE}"},
    )
    unassigned = ma.fields.Integer(
        required=True, metadata={"description": "The `unassigned` tab count, same statuses"}
    )
    mine = ma.fields.Integer(
        required=True, metadata={"description": "The `mine` tab count, same statuses"}
    )
    sla_at_risk = ma.fields.Integer(
        required=True,
        metadata={
            "description": "Of the `open` ones, those with an SLA target warned, overdue "
            "or breached, and not yet done"
        },
    )


class MemberFigures(Schema):
    total = ma.fields.Integer(required=True, metadata={"description": "The account's members"})
    online = ma.fields.Integer(
        required=True,
        metadata={"description": "Members whose availability is `online` (see `GET /agents`)"},
    )


class DashboardOut(Schema):
    conversations = ma.fields.Nested(ConversationFigures, required=True)
    contacts = ma.fields.Integer(
        required=True,
        allow_none=True,
        metadata={"description": "Contacts not deleted; null without `contacts:read`"},
    )
    members = ma.fields.Nested(MemberFigures, required=True)


@blp.route("")
class Dashboard(MethodView):
    @blp.response(200, DashboardOut)
    @requires("conversations:read")
    def get(self):
        """Read the dashboard's figures: conversations, contacts and members

        One call for the console's tiles, so they agree with each other and with the inbox.
        `conversations.open`, `.unassigned` and `.mine` are exactly the inbox's `all`,
        `unassigned` and `mine` tab counts for the caller under the statuses open, assigned
        and pending (snoozed, resolved and closed are left out), with the inbox's visibility:
        `all` is every conversation with `conversations:read_all`, otherwise those of the
        caller's channel inboxes and teams and those assigned to them.
        `conversations.sla_at_risk` counts, among those `open` ones, the conversations with
        an SLA target past its warning moment or deadline and not yet done: warned, overdue,
        or breached and still unanswered.
        `contacts` is the number of contacts not deleted, or null when the caller lacks
        `contacts:read` (the count is theirs to know only with it). `members.online` counts
        the members whose availability is `online`, as `GET /agents` reports it.

        Needs `conversations:read` (403 otherwise), like the inbox.
        """
        return dashboard(
            db.session,
            account_id=g.account.id,
            user_id=g.get("user_id"),
            read_all="conversations:read_all" in g.permissions,
            read_contacts="contacts:read" in g.permissions,
        )
