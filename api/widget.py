"""The chat widget's API: what a visitor on a customer's website does in an in-app channel.

Everything lives under ``/v1/widget/accounts/{account_id}/channels/{channel_id}``, apart
from the agents' API. A visitor opens a session (``POST …/sessions``, no log-in,
rate-limited per IP like log-in) and gets a widget token naming the account, the channel
and their contact, valid 30 days (:meth:`identity.tokens.TokenIssuer.issue_widget`). With
it (``Authorization: Bearer``) they list, start and write in their own conversations of
that channel; another contact's conversation does not exist for them (404). A widget
token is refused by the agents' API and an access token here: each is verified for its
own audience.

What they see is the contact's view (:mod:`helpdesk.widget`): never private notes, never
a message's metadata, mentions or delivery details, an agent by display name only.
Unknown accounts, deleted ones, unknown channels and channels of another type all answer
the same ``404 channel_not_found``: the widget API is no oracle for what exists.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import NoReturn

import marshmallow as ma
from flask import g, request
from flask.views import MethodView

from api.auth import current_actor, leave_account, token_issuer
from api.base import Blueprint, Schema
from api.conversations import MessageArgs
from api.errors import fail
from api.helpdesk_errors import refusals_answered
from api.ratelimit import limit
from crm.models import Contact
from helpdesk.messages import list_messages, post_message
from helpdesk.models import Channel
from helpdesk.widget import (
    CONTACT_STATUSES,
    MAX_CONVERSATIONS,
    IdentityRefused,
    conversation_views,
    inbound,
    message_views,
    start_conversation,
    visitor_contact,
    visitor_conversation,
    visitor_conversations,
    widget_channel,
)
from identity.tokens import InvalidToken, WidgetClaims
from tenants.db import db
from tenants.models import AccountStatus
from tenants.registry import AccountRecord, registry
from tenants.scope import activate
from tenants.session import tenant_session

PREFIX = "/v1/widget/accounts/<uuid:account_id>/channels/<uuid:channel_id>"
_REFUSED = {"WWW-Authenticate": 'Bearer realm="turumba-widget", error="invalid_token"'}
#: How a refused visitor session answers, by code.
_IDENTITY_STATUS = {
    "invalid_identifier_hash": 401,
    "identity_required": 403,
    "identity_not_configured": 409,
}

sessions = Blueprint(
    "widget-sessions",
    __name__,
    url_prefix=PREFIX,
    description="Chat widget: a visitor opens a session (no log-in; in-app channels only)",
)
blp = Blueprint(
    "widget",
    __name__,
    url_prefix=PREFIX,
    description="Chat widget: a visitor's own conversations, with a widget token",
)


class Refusal(Exception):
    """Why a widget (REST or socket) is turned away: an HTTP status, a stable code."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def widget_account(account_id: uuid.UUID) -> AccountRecord:
    """The live account a widget talks to, or a refusal that does not say it exists."""
    record = registry().get(account_id)
    if record is None or record.status is AccountStatus.DELETED:
        raise Refusal(404, "channel_not_found", "No such chat channel.")
    return record


def check_channel(session, account: AccountRecord, channel_id: uuid.UUID) -> Channel:
    """The account's in-app channel ``channel_id`` if it takes visitors now."""
    channel = widget_channel(session, channel_id)
    if channel is None:
        raise Refusal(404, "channel_not_found", "No such chat channel.")
    if account.status is AccountStatus.SUSPENDED:
        raise Refusal(403, "account_suspended", "This chat is unavailable.")
    if not channel.enabled:
        raise Refusal(403, "channel_disabled", "This chat is switched off.")
    return channel


def verified(token: str) -> WidgetClaims:
    try:
        return token_issuer().verify_widget(token)
    except InvalidToken:
        raise Refusal(
            401, "invalid_token", "The widget token is invalid or has expired; open a new session."
        ) from None


def check_contact(session, claims: WidgetClaims) -> Contact:
    contact = session.get(Contact, claims.contact_id)
    if contact is None or contact.deleted_at is not None:  # deleted, or merged away
        raise Refusal(401, "invalid_token", "This visitor no longer exists; open a new session.")
    return contact


def check_for(claims: WidgetClaims, account_id: uuid.UUID, channel_id: uuid.UUID) -> None:
    """Refuse a token of another account's, or another channel's, visitor."""
    if (claims.account_id, claims.channel_id) != (account_id, channel_id):
        raise Refusal(401, "invalid_token", "This widget token is for another chat channel.")


def admit(
    token: str, *, account_id: uuid.UUID, channel_id: uuid.UUID
) -> tuple[WidgetClaims, AccountRecord]:
    """The visitor of a widget token for this account's channel, checked as each REST
    request checks it (for sockets)."""
    claims = verified(token)
    check_for(claims, account_id, channel_id)
    account = widget_account(claims.account_id)
    with tenant_session(account) as session:
        check_channel(session, account, claims.channel_id)
        check_contact(session, claims)
    return claims, account


@contextmanager
def _answered() -> Iterator[None]:
    try:
        yield
    except Refusal as refusal:
        headers = _REFUSED if refusal.status == 401 else None
        fail(refusal.status, refusal.code, refusal.message, headers=headers)


def _enter() -> None:
    """Make the URL's account the request's tenant and its in-app channel ``g.channel``."""
    record = widget_account(g.account_id)
    g.tenant_token = activate(record.schema_name)
    g.channel = check_channel(db.session, record, g.channel_id)
    g.account = record


def _pop_ids(endpoint, values) -> None:
    g.account_id = values.pop("account_id")
    g.channel_id = values.pop("channel_id")


for _blueprint in (sessions, blp):
    _blueprint.url_value_preprocessor(_pop_ids)
    _blueprint.teardown_request(leave_account)


@sessions.before_request
def _open_session() -> None:
    limit("widget_session")
    with _answered():
        _enter()


@blp.before_request
def _visitor() -> None:
    """Admit the widget token: 401s first (no token, a bad one, another channel's), then
    404 for the channel, 403 when it takes no visitors now."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        fail(401, "unauthenticated", "Send a widget token: Authorization: Bearer <token>.")
    with _answered():
        claims = verified(token.strip())
        check_for(claims, g.account_id, g.channel_id)
        _enter()
        g.contact = check_contact(db.session, claims)


# -- schemas -------------------------------------------------------------------------------


class WidgetSessionIn(Schema):
    name = ma.fields.String(
        validate=ma.validate.Length(min=1, max=200),
        metadata={"description": "For a new contact; defaults to the email, or `Visitor`"},
    )
    email = ma.fields.Email(
        validate=ma.validate.Length(max=320),
        metadata={"description": "An identified visitor's email; requires `identifier_hash`"},
    )
    identifier_hash = ma.fields.String(
        validate=ma.validate.Length(min=1, max=128),
        metadata={
            "description": "Hex HMAC-SHA256 of `email` (exactly as sent) under the "
            "channel's `secret`, computed by your backend"
        },
    )


class WidgetSessionOut(Schema):
    token = ma.fields.String(
        required=True, metadata={"description": "Send as `Authorization: Bearer`"}
    )
    contact_id = ma.fields.UUID(required=True)
    expires_at = ma.fields.AwareDateTime(required=True)


class WidgetSender(Schema):
    type = ma.fields.String(required=True, metadata={"enum": ["contact", "agent", "bot", "system"]})
    name = ma.fields.String(
        allow_none=True, metadata={"description": "A display name (none for the system)"}
    )


class WidgetMessageOut(Schema):
    id = ma.fields.UUID(required=True)
    conversation_id = ma.fields.UUID(required=True)
    body = ma.fields.String(required=True)
    body_html = ma.fields.String(allow_none=True)
    sender = ma.fields.Nested(WidgetSender, required=True)
    created_at = ma.fields.AwareDateTime(required=True)


class WidgetMessagePage(Schema):
    items = ma.fields.List(ma.fields.Nested(WidgetMessageOut), required=True)
    has_more = ma.fields.Boolean(required=True)


class WidgetConversationOut(Schema):
    id = ma.fields.UUID(required=True)
    status = ma.fields.String(
        required=True,
        metadata={
            "enum": list(CONTACT_STATUSES),
            "description": "Open until an agent resolves or closes it",
        },
    )
    created_at = ma.fields.AwareDateTime(required=True)
    last_activity_at = ma.fields.AwareDateTime(required=True)
    agent_name = ma.fields.String(
        allow_none=True, metadata={"description": "The assigned agent's display name"}
    )
    last_message = ma.fields.Nested(WidgetMessageOut, allow_none=True)


class WidgetConversationPage(Schema):
    items = ma.fields.List(ma.fields.Nested(WidgetConversationOut), required=True)
    has_more = ma.fields.Boolean(required=True)


class WidgetConversationArgs(Schema):
    before = ma.fields.UUID(
        metadata={"description": "Conversations after this one (latest activity first)"}
    )
    limit = ma.fields.Integer(
        load_default=20, validate=ma.validate.Range(min=1, max=MAX_CONVERSATIONS)
    )


class WidgetMessageIn(Schema):
    body = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=100_000))


# -- views ----------------------------------------------------------------------------------


def _token_for(contact_id: uuid.UUID) -> dict:
    token, expires_at = token_issuer().issue_widget(
        account_id=g.account.id, channel_id=g.channel.id, contact_id=contact_id
    )
    return {
        "token": token,
        "contact_id": contact_id,
        "expires_at": datetime.fromtimestamp(expires_at, UTC),
    }


def _identity_refused(exc: IdentityRefused) -> NoReturn:
    fail(_IDENTITY_STATUS[exc.code], exc.code, exc.message)


@sessions.route("/sessions")
class WidgetSessions(MethodView):
    @sessions.arguments(WidgetSessionIn)
    @sessions.response(201, WidgetSessionOut)
    @sessions.errors(409, 429)
    @sessions.doc(security=[])
    def post(self, data):
        """Open a visitor's session: a widget token for a contact

        With `email` and `identifier_hash`: the contact with that email (created if
        missing); a wrong hash answers `401 invalid_identifier_hash`, a channel without
        a `secret` `409 identity_not_configured`. Without: a new anonymous contact
        (refused with `403 identity_required` when the channel's config sets
        `require_identity`). The token is valid 30 days; renew it with
        `POST …/sessions/renew`.
        """
        try:
            with refusals_answered():  # 422s; an IdentityRefused passes through
                contact = visitor_contact(
                    db.session, g.channel, account_id=g.account.id, actor=current_actor(), **data
                )
        except IdentityRefused as exc:
            _identity_refused(exc)
        session = _token_for(contact.id)
        db.session.commit()
        return session


@blp.route("/sessions/renew")
class WidgetSessionRenewal(MethodView):
    @blp.response(201, WidgetSessionOut)
    def post(self):
        """Renew a visitor's session: a fresh 30-day token for the same contact"""
        return _token_for(g.contact.id)


def _conversation_or_404(conversation_id: uuid.UUID):
    conversation = visitor_conversation(
        db.session, conversation_id, channel_id=g.channel.id, contact_id=g.contact.id
    )
    if conversation is None:
        fail(404, "conversation_not_found", "No such conversation.")
    return conversation


@blp.route("/conversations")
class WidgetConversations(MethodView):
    @blp.arguments(WidgetConversationArgs, location="query")
    @blp.response(200, WidgetConversationPage)
    def get(self, args):
        """List the visitor's conversations in this channel, latest activity first"""
        with refusals_answered():
            found, has_more = visitor_conversations(
                db.session, channel_id=g.channel.id, contact_id=g.contact.id, **args
            )
        return {"items": conversation_views(db.session, found), "has_more": has_more}

    @blp.arguments(WidgetMessageIn)
    @blp.response(201, WidgetConversationOut)
    def post(self, data):
        """Start a conversation with its first message"""
        with refusals_answered():
            conversation, _ = start_conversation(
                db.session,
                account_id=g.account.id,
                actor=current_actor(),
                channel_id=g.channel.id,
                contact_id=g.contact.id,
                body=data["body"],
            )
        db.session.commit()
        (view,) = conversation_views(db.session, [conversation])
        return view


@blp.route("/conversations/<uuid:conversation_id>/messages")
class WidgetMessages(MethodView):
    @blp.arguments(MessageArgs, location="query")
    @blp.response(200, WidgetMessagePage)
    def get(self, args, conversation_id):
        """List a conversation's messages as the visitor sees them, oldest first, by cursor

        Private notes are never listed (nor accepted as a cursor).
        """
        conversation = _conversation_or_404(conversation_id)
        with refusals_answered():
            items, has_more = list_messages(db.session, conversation, **args, notes=False)
        return {"items": message_views(db.session, items), "has_more": has_more}

    @blp.arguments(WidgetMessageIn)
    @blp.response(201, WidgetMessageOut)
    @blp.errors(409)
    def post(self, data, conversation_id):
        """Write in a conversation

        It wakes a snoozed conversation and reopens a resolved one; a closed one answers
        `409 conversation_closed` (start a new one).
        """
        conversation = _conversation_or_404(conversation_id)
        with refusals_answered():
            message = post_message(
                db.session,
                conversation.id,
                account_id=g.account.id,
                actor=current_actor(),
                **inbound(g.contact.id),
                body=data["body"],
                commit=True,
            )
        (view,) = message_views(db.session, [message])
        return view
