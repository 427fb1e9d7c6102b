"""Teams of the current account and their members."""

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
from helpdesk.models import Team
from helpdesk.teams import (
    add_team_member,
    create_team,
    delete_team,
    get_team,
    remove_team_member,
    team_members,
    update_team,
)
from tenants.db import db

blp = tenant_blueprint("teams", __name__, "/teams", description="Helpdesk teams")


class TeamIn(Schema):
    name = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=200))
    description = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=1000))


class TeamOut(Schema):
    id = ma.fields.UUID(required=True)
    name = ma.fields.String(required=True)
    description = ma.fields.String(allow_none=True)
    member_ids = ma.fields.Method("_members", metadata={"type": "array"})
    created_at = ma.fields.AwareDateTime(required=True)
    updated_at = ma.fields.AwareDateTime(required=True)

    def _members(self, team):
        return [str(user_id) for user_id in team_members(db.session, team)]


class TeamList(Schema):
    items = ma.fields.List(ma.fields.Nested(TeamOut), required=True)


class TeamMemberIn(Schema):
    user_id = ma.fields.UUID(required=True)


_log = partial(audit_change, "team")


def _team_or_404(team_id: uuid.UUID) -> Team:
    team = get_team(db.session, team_id)
    if team is None:
        fail(404, "team_not_found", "No such team.")
    return team


@blp.route("")
class Teams(MethodView):
    @blp.response(200, TeamList)
    @requires("conversations:read")
    def get(self):
        """List the account's teams"""
        return {"items": list(db.session.scalars(select(Team).order_by(Team.name, Team.id)))}

    @blp.arguments(TeamIn)
    @blp.response(201, TeamOut)
    @blp.errors(409)
    @requires("teams:manage")
    def post(self, data):
        """Create a team"""
        with refusals_answered():
            team = create_team(db.session, **data)
        _log("created", team.id, after=snapshot(team))
        db.session.commit()
        return team


@blp.route("/<uuid:team_id>")
class TeamById(MethodView):
    @blp.response(200, TeamOut)
    @requires("conversations:read")
    def get(self, team_id):
        """Read one team"""
        return _team_or_404(team_id)

    @blp.arguments(TeamIn(partial=True))
    @blp.response(200, TeamOut)
    @blp.errors(409)
    @requires("teams:manage")
    def patch(self, data, team_id):
        """Change a team"""
        team = _team_or_404(team_id)
        before = snapshot(team)
        with refusals_answered():
            update_team(db.session, team, **data)
        _log("updated", team.id, before=before, after=snapshot(team))
        db.session.commit()
        return team

    @blp.response(204)
    @requires("teams:manage")
    def delete(self, team_id):
        """Delete a team (its conversations keep going, without a team)"""
        team = _team_or_404(team_id)
        before = snapshot(team)
        delete_team(db.session, team)
        _log("deleted", team_id, before=before)
        db.session.commit()


@blp.route("/<uuid:team_id>/members")
class TeamMembers(MethodView):
    @blp.arguments(TeamMemberIn)
    @blp.response(200, TeamOut)
    @requires("teams:manage")
    def post(self, data, team_id):
        """Add a member of the account to a team"""
        team = _team_or_404(team_id)
        with refusals_answered():
            added = add_team_member(
                db.session, team, account_id=g.account.id, actor=current_actor(), **data
            )
        if added:
            _log("member_added", team.id, after={"user_id": data["user_id"]})
        db.session.commit()
        return team


@blp.route("/<uuid:team_id>/members/<uuid:user_id>")
class TeamMember(MethodView):
    @blp.response(204)
    @requires("teams:manage")
    def delete(self, team_id, user_id):
        """Remove a member from a team"""
        if not remove_team_member(db.session, _team_or_404(team_id), user_id=user_id):
            fail(404, "team_member_not_found", "That user is not in this team.")
        _log("member_removed", team_id, before={"user_id": user_id})
        db.session.commit()
