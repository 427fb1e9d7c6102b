"""The caller's sessions (devices they are logged in on) and their password."""

from __future__ import annotations

import uuid

import marshmallow as ma
from flask import current_app, g, request
from flask.views import MethodView

from api.auth import current_actor, current_user, issue_tokens
from api.authentication import PASSWORD, refuse_if_locked, throttle
from api.base import Blueprint, Schema
from api.errors import fail
from api.schemas import TokenPairOut
from audit.user_events import record_user_event
from identity import sessions
from tenants.db import db

blp = Blueprint(
    "sessions", __name__, url_prefix="/v1/me", description="The caller's sessions and password"
)


class SessionOut(Schema):
    id = ma.fields.UUID(required=True)
    user_agent = ma.fields.String(
        required=True, allow_none=True, metadata={"description": "The device, as it told us"}
    )
    ip = ma.fields.String(required=True, allow_none=True)
    created_at = ma.fields.AwareDateTime(required=True)
    last_used_at = ma.fields.AwareDateTime(
        required=True, metadata={"description": "Log-in or last refresh"}
    )
    current = ma.fields.Boolean(
        required=True, metadata={"description": "The session of the token making this call"}
    )


class SessionListOut(Schema):
    items = ma.fields.List(ma.fields.Nested(SessionOut), required=True)


class RevokedOut(Schema):
    revoked = ma.fields.Integer(required=True, metadata={"description": "Sessions revoked"})


class PasswordChangeIn(Schema):
    current_password = ma.fields.String(
        required=True, load_only=True, validate=ma.validate.Length(min=1, max=256)
    )
    new_password = PASSWORD


@blp.route("/sessions")
class Sessions(MethodView):
    @blp.response(200, SessionListOut)
    def get(self):
        """The caller's live sessions, most recently used first"""
        user = current_user()
        current = g.get("session_id")
        items = [
            {
                "id": s.id,
                "user_agent": s.user_agent,
                "ip": s.ip,
                "created_at": s.created_at,
                "last_used_at": s.last_used_at,
                "current": s.id == current,
            }
            for s in sessions.live_sessions(db.session, user_id=user.id)
        ]
        return {"items": items}


@blp.route("/sessions/<uuid:session_id>")
class OneSession(MethodView):
    @blp.response(204)
    def delete(self, session_id: uuid.UUID):
        """Revoke one of the caller's sessions (log that device out)"""
        user = current_user()
        try:
            sessions.revoke_session(db.session, user_id=user.id, session_id=session_id)
        except sessions.SessionNotFound:
            fail(404, "session_not_found", "No such session.")
        db.session.commit()


@blp.route("/sessions/revoke-others")
class RevokeOthers(MethodView):
    @blp.response(200, RevokedOut)
    def post(self):
        """Revoke every session of the caller but the current one"""
        user = current_user()
        current = g.get("session_id")
        revoked = sessions.revoke_all_sessions(
            db.session, user_id=user.id, reason="revoke_others", except_session_id=current
        )
        record_user_event(
            db.session,
            user_id=user.id,
            actor=current_actor(),
            action="user.other_sessions_revoked",
            after={"sessions_revoked": len(revoked)},
        )
        db.session.commit()
        return {"revoked": len(revoked)}


@blp.route("/password")
class Password(MethodView):
    @blp.arguments(PasswordChangeIn)
    @blp.response(200, TokenPairOut)
    @blp.errors(400, 429)
    def post(self, data):
        """Change the password: other sessions end, this one continues with new tokens"""
        user = current_user()
        guard = throttle("password")
        refuse_if_locked(guard, ip=request.remote_addr, account=str(user.id))
        try:
            revoked = sessions.change_password(
                db.session,
                user=user,
                current_password=data["current_password"],
                new_password=data["new_password"],
                keep_session_id=g.get("session_id"),
            )
        except sessions.WrongPassword:
            db.session.rollback()
            guard.failure(ip=request.remote_addr, account=str(user.id))
            fail(
                400,
                "wrong_password",
                "The current password is wrong.",
                errors={"current_password": ["does not match"]},
            )
        guard.success(account=str(user.id))
        record_user_event(
            db.session,
            user_id=user.id,
            actor=current_actor(),
            action="user.password_changed",
            after={"sessions_revoked": len(revoked)},
        )
        if g.get("session_id") is None:
            return issue_tokens(user.id)  # opens a session and commits
        opened = sessions.reissue(
            db.session,
            user_id=user.id,
            session_id=g.session_id,
            refresh_ttl=current_app.extensions["turumba.config"].refresh_token_ttl,
        )
        db.session.commit()
        return issue_tokens(user.id, opened)
