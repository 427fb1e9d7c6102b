"""The application factory: extensions, clients and blueprints, nothing else."""

from __future__ import annotations

from flask import Flask

from api import (
    accounts,
    api_tokens,
    assignment,
    audit,
    authentication,
    automation,
    channels,
    console,
    contacts,
    contacts_bulk,
    contacts_export,
    contacts_import,
    conversations,
    custom_fields,
    dashboard,
    docs,
    health,
    inbox,
    invitations,
    jwks,
    me,
    members,
    mfa,
    notifications,
    passwords,
    replies,
    requests,
    roles,
    segments,
    sessions,
    settings,
    sla,
    sockets,
    tags,
    teams,
    verification,
    widget,
)
from api.base import Api
from core.config import Config
from core.logging import configure_logging
from core.redis import connect
from core.worker import worker_command
from events.cli import events_cli
from identity.standings import Standings
from identity.tokens import TokenIssuer
from provisioning.cli import tenants_cli
from tenants.db import db, ping_when_idle
from tenants.registry import Registry
from tenants.scope import refuse_raw_sql_on_tenant_connections

BLUEPRINTS = (
    health.blp,
    authentication.blp,
    sessions.blp,
    mfa.blp,
    jwks.blp,
    me.blp,
    accounts.blp,
    accounts.current,
    accounts.lifecycle,
    contacts.blp,
    contacts_bulk.blp,
    contacts_export.blp,
    contacts_export.exports,
    contacts_import.blp,
    custom_fields.blp,
    segments.blp,
    audit.blp,
    settings.blp,
    api_tokens.blp,
    verification.blp,
    passwords.blp,
    members.blp,
    invitations.blp,
    invitations.acceptance,
    roles.blp,
    roles.catalogue,
    channels.blp,
    assignment.blp,
    teams.blp,
    conversations.blp,
    replies.blp,
    inbox.blp,
    dashboard.blp,
    sla.blp,
    tags.blp,
    tags.contact_tags,
    automation.blp,
    notifications.blp,
    widget.sessions,
    widget.blp,
)


def create_app(config: Config | None = None) -> Flask:
    config = config or Config.from_env()
    configure_logging(config.log_level)
    app = Flask("turumba", static_folder=None)  # the browser app gets its own route
    app.config.update(
        SQLALCHEMY_DATABASE_URI=config.sqlalchemy_url,
        SQLALCHEMY_ENGINE_OPTIONS={
            "pool_size": config.db_pool_size,
            "connect_args": {
                "connect_timeout": 5,
                "options": f"-c lock_timeout={config.db_lock_timeout}",
            },
        },
        MAX_CONTENT_LENGTH=config.max_content_length,
        API_TITLE="Turumba",
        API_VERSION="v1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/",
        OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH="docs",
        OPENAPI_SWAGGER_UI_URL=docs.ASSETS_URL,
        API_SPEC_OPTIONS={
            "components": {
                "securitySchemes": {
                    "bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
                }
            },
            "security": [{"bearerAuth": []}],
        },
    )
    app.extensions["turumba.config"] = config
    db.init_app(app)
    redis = connect(config.redis_url)
    app.extensions["turumba.redis"] = redis
    app.extensions["turumba.tokens"] = TokenIssuer(
        config.jwt_private_key,
        key_id=config.jwt_key_id,
        issuer=config.jwt_issuer,
        ttl=config.access_token_ttl,
        previous_public_keys=config.jwt_previous_public_keys,
        mfa_ttl=config.mfa_token_ttl,
    )
    with app.app_context():
        refuse_raw_sql_on_tenant_connections(db.engine)
        ping_when_idle(db.engine)
        app.extensions["turumba.registry"] = Registry(db.engine, redis, config.registry_ttl)
        app.extensions["turumba.standings"] = Standings(db.engine, redis, config.registry_ttl)

    requests.init_app(app)
    sockets.init_app(app, redis_url=config.redis_url)
    api = Api(app)
    for blueprint in BLUEPRINTS:
        api.register_blueprint(blueprint)
    app.register_blueprint(docs.assets)
    app.register_blueprint(console.blp)  # last: its catch-all route yields to every other
    app.cli.add_command(tenants_cli)
    app.cli.add_command(worker_command)
    app.cli.add_command(events_cli)
    return app
