"""Canned responses and message templates: Jinja2 bodies over a fixed variable catalogue.

Bodies are parsed when saved: only the catalogue's ``root.attribute`` variables may
appear, and nothing else may be reached through attributes (so ``{{ ''.__class__ }}`` is
refused before it is stored). Rendering runs in a sandbox with ``StrictUndefined``; any
failure there is an :class:`~helpdesk.errors.InvalidField`, never a crash.
"""

from __future__ import annotations

import uuid
from typing import Any

from jinja2 import StrictUndefined, TemplateError, meta, nodes
from jinja2.sandbox import SandboxedEnvironment
from sqlalchemy import String, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, Session, mapped_column

from crm.models import Contact
from helpdesk.errors import InvalidField, save_unique
from helpdesk.models import Conversation
from identity.models import User
from tenants.db import TenantBase, Timestamps, UuidPrimaryKey

#: The variables a body may use, by root object.
CATALOGUE: dict[str, tuple[str, ...]] = {
    "contact": ("name", "email", "company"),
    "agent": ("name",),
    "account": ("name",),
    "conversation": ("subject", "id"),
}
VARIABLES = tuple(f"{root}.{attr}" for root, attrs in CATALOGUE.items() for attr in attrs)
#: What a preview without a conversation renders with.
SAMPLE: dict[str, dict[str, str]] = {
    "contact": {"name": "Jane Doe", "email": "jane@example.com", "company": "Example Inc."},
    "agent": {"name": "Alex Agent"},
    "account": {"name": "Your company"},
    "conversation": {"subject": "Sample subject", "id": "00000000-0000-0000-0000-000000000000"},
}

_ENV = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False)


class CannedResponse(UuidPrimaryKey, Timestamps, TenantBase):
    __tablename__ = "canned_responses"

    short_code: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)


class Template(UuidPrimaryKey, Timestamps, TenantBase):
    __tablename__ = "templates"

    name: Mapped[str] = mapped_column(String(200), unique=True)
    subject: Mapped[str | None] = mapped_column(String(500))
    body: Mapped[str] = mapped_column(Text)
    #: The catalogue variables the subject and body use, sorted (computed on save).
    variables: Mapped[list[str]] = mapped_column(JSONB, default=list)


# -- validation and rendering ---------------------------------------------------------


def _walk(node: nodes.Node, used: set[str], unknown: set[str]) -> None:
    if isinstance(node, nodes.Getattr | nodes.Getitem):
        target = node.node
        attr = node.attr if isinstance(node, nodes.Getattr) else None
        if isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const):
            attr = node.arg.value
        if isinstance(target, nodes.Name) and target.name in CATALOGUE and isinstance(attr, str):
            name = f"{target.name}.{attr}"
            (used if attr in CATALOGUE[target.name] else unknown).add(name)
            return
        # Anything else reached through an attribute or subscript is off-catalogue.
        unknown.add(_describe(node))
        return
    if isinstance(node, nodes.Name) and node.ctx == "load":
        if node.name in CATALOGUE:
            unknown.add(node.name)  # a bare root: only its attributes are variables
        return
    for child in node.iter_child_nodes():
        _walk(child, used, unknown)


def _describe(node: nodes.Node) -> str:
    if isinstance(node, nodes.Name):
        return node.name
    if isinstance(node, nodes.Const):
        return repr(node.value)
    if isinstance(node, nodes.Getattr):
        return f"{_describe(node.node)}.{node.attr}"
    if isinstance(node, nodes.Getitem):
        return f"{_describe(node.node)}[...]"
    return type(node).__name__.lower()


def check_source(source: str, *, field: str) -> list[str]:
    """The catalogue variables ``source`` uses; refuses syntax errors and unknown variables."""
    try:
        tree = _ENV.parse(source)
    except TemplateError as exc:
        raise InvalidField(field, f"not a valid template: {exc}") from exc

    undeclared = meta.find_undeclared_variables(tree)
    used: set[str] = set()
    unknown = {name for name in undeclared if name not in CATALOGUE}
    _walk(tree, used, unknown)
    if unknown:
        raise InvalidField(
            field,
            f"unknown variables: {', '.join(sorted(unknown))}; allowed: {', '.join(VARIABLES)}",
        )
    return sorted(used)


def render(source: str, context: dict[str, Any], *, field: str = "body") -> str:
    """Render ``source`` in the sandbox; any failure is an ``InvalidField``."""
    try:
        return _ENV.from_string(source).render(context)
    except TemplateError as exc:  # SecurityError and UndefinedError included
        raise InvalidField(field, f"cannot be rendered: {exc}") from exc


# -- services -------------------------------------------------------------------------


def _save_canned(session: Session, canned: CannedResponse) -> CannedResponse:
    check_source(canned.body, field="body")
    return save_unique(
        session,
        canned,
        constraint="uq_canned_responses_short_code",
        code="canned_response_short_code_taken",
        field="short_code",
    )


def create_canned_response(
    session: Session, *, short_code: str, title: str, body: str
) -> CannedResponse:
    return _save_canned(session, CannedResponse(short_code=short_code, title=title, body=body))


def get_canned_response(session: Session, canned_id: uuid.UUID) -> CannedResponse | None:
    return session.get(CannedResponse, canned_id)


def update_canned_response(
    session: Session, canned: CannedResponse, **changes: Any
) -> CannedResponse:
    for key, value in changes.items():
        setattr(canned, key, value)
    return _save_canned(session, canned)


def _save_template(session: Session, template: Template) -> Template:
    used = set(check_source(template.body, field="body"))
    if template.subject is not None:
        used |= set(check_source(template.subject, field="subject"))
    template.variables = sorted(used)
    return save_unique(
        session, template, constraint="uq_templates_name", code="template_name_taken", field="name"
    )


def create_template(
    session: Session, *, name: str, body: str, subject: str | None = None
) -> Template:
    return _save_template(session, Template(name=name, subject=subject, body=body))


def get_template(session: Session, template_id: uuid.UUID) -> Template | None:
    return session.get(Template, template_id)


def update_template(session: Session, template: Template, **changes: Any) -> Template:
    for key, value in changes.items():
        setattr(template, key, value)
    return _save_template(session, template)


def delete_row(session: Session, row: CannedResponse | Template) -> None:
    session.delete(row)
    session.flush()


def preview_context(
    session: Session,
    *,
    account_name: str,
    caller_id: uuid.UUID | None,
    conversation_id: uuid.UUID | None = None,
) -> dict[str, dict[str, str]]:
    """The variables for a preview: a conversation's (of this tenant) or the samples."""
    if conversation_id is None:
        return {**SAMPLE, "account": {"name": account_name}}
    conversation = session.get(Conversation, conversation_id)
    if conversation is None:
        raise InvalidField("conversation_id", "no such conversation")
    contact = session.get(Contact, conversation.contact_id)
    agent_id = conversation.assignee_id or caller_id
    agent = session.get(User, agent_id) if agent_id else None
    return {
        "contact": {
            "name": contact.name or "",
            "email": contact.email or "",
            "company": contact.company or "",
        },
        "agent": {"name": agent.name if agent else ""},
        "account": {"name": account_name},
        "conversation": {"subject": conversation.subject or "", "id": str(conversation.id)},
    }


def render_template(template: Template, context: dict[str, Any]) -> dict[str, str | None]:
    subject = None
    if template.subject is not None:
        subject = render(template.subject, context, field="subject")
    return {"subject": subject, "body": render(template.body, context, field="body")}
