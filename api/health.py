"""Liveness (shallow) and readiness (PostgreSQL and Redis answer)."""

from __future__ import annotations

import marshmallow as ma
import redis
from flask.views import MethodView
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from api.base import Blueprint, Schema
from api.errors import fail
from core.redis import redis_client
from tenants.db import db

blp = Blueprint("health", __name__, url_prefix="/health", description="Health checks")


class HealthOut(Schema):
    status = ma.fields.String(required=True, metadata={"example": "ok"})
    checks = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.String())


@blp.route("")
class Health(MethodView):
    @blp.doc(security=[])
    @blp.response(200, HealthOut)
    def get(self):
        """The process is up (touches nothing else)"""
        return {"status": "ok"}


@blp.route("/ready")
class Ready(MethodView):
    @blp.doc(security=[])
    @blp.response(200, HealthOut)
    @blp.errors(503)
    def get(self):
        """PostgreSQL and Redis both answer; 503 naming the failing one otherwise"""
        problems: dict[str, list[str]] = {}
        try:
            with db.engine.connect() as conn:
                conn.execute(select(1))
        except SQLAlchemyError as exc:
            problems["database"] = [type(exc).__name__]
        try:
            redis_client().ping()
        except redis.RedisError as exc:
            problems["redis"] = [type(exc).__name__]
        if problems:
            fail(503, "not_ready", "A dependency is unavailable.", errors=problems)
        return {"status": "ok", "checks": {"database": "ok", "redis": "ok"}}
