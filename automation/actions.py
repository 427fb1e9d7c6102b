"""The actions a rule may take, and how each one's parameters are checked at save time.

A rule is refused when an action names an agent who is not a member, a team, template or
SLA policy that does not exist, or a body that does not render: the admin learns it while
building the rule, not from a run log after the first event. Every error names the
offending part as a path into the rule (``actions/2/params/agent_id``).
"""

from __future__ import annotations

import ipaddress
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy.orm import Session

from helpdesk import states
from helpdesk.errors import InvalidField
from helpdesk.members import require_member
from helpdesk.models import PRIORITIES
from helpdesk.replies import check_source, get_template
from helpdesk.sla.policies import get_policy
from helpdesk.teams import get_team

STRATEGIES = ("round_robin", "least_loaded")
#: Statuses ``set_status`` may set (``assigned`` comes from an assignment, ``snoozed``
#: from the ``snooze`` action, which takes its duration).
SETTABLE_STATUSES = (states.OPEN, states.PENDING, states.RESOLVED, states.CLOSED)
MAX_TEXT = 10_000
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True)
class Check:
    """What a parameter check needs: where it is, the session and the account."""

    session: Session
    account_id: uuid.UUID
    at: str  # "actions/2/params"

    def fail(self, name: str, message: str) -> InvalidField:
        return InvalidField(f"{self.at}/{name}", message)


Param = Callable[[Check, str, Any], Any]


def _text(limit: int = MAX_TEXT) -> Param:
    def check(c: Check, name: str, value: Any) -> str:
        if not isinstance(value, str) or not value.strip():
            raise c.fail(name, "a non-empty string is required")
        if len(value) > limit:
            raise c.fail(name, f"at most {limit} characters")
        return value

    return check


def _template_text(c: Check, name: str, value: Any) -> str:
    """A body or subject: Jinja2 over the reply variables, checked as replies are."""
    text = _text()(c, name, value)
    check_source(text, field=f"{c.at}/{name}")
    return text


def _one_of(values: tuple[str, ...]) -> Param:
    def check(c: Check, name: str, value: Any) -> str:
        if value not in values:
            raise c.fail(name, f"one of {', '.join(values)}")
        return value

    return check


def _uuid(c: Check, name: str, value: Any) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise c.fail(name, "not a valid id") from None


def _member(c: Check, name: str, value: Any) -> str:
    user_id = _uuid(c, name, value)
    require_member(c.session, account_id=c.account_id, user_id=user_id, field=f"{c.at}/{name}")
    return str(user_id)


def _existing(getter: Callable[[Session, uuid.UUID], Any], what: str) -> Param:
    def check(c: Check, name: str, value: Any) -> str:
        row_id = _uuid(c, name, value)
        if getter(c.session, row_id) is None:
            raise c.fail(name, f"no such {what} in this account")
        return str(row_id)

    return check


def _minutes(c: Check, name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 525_600:
        raise c.fail(name, "a whole number of minutes, 1 to 525600")
    return value


def _scalar(c: Check, name: str, value: Any) -> Any:
    if value is not None and not isinstance(value, str | int | float | bool):
        raise c.fail(name, "a string, number, boolean or null")
    return value


def _url(c: Check, name: str, value: Any) -> str:
    """An http(s) URL; a literal internal address is refused now, a host name that
    resolves to one when sending (:func:`automation.webhooks.check_destination`)."""
    text = _text(2048)(c, name, value)
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise c.fail(name, "an http:// or https:// URL")
    try:
        ip = ipaddress.ip_address(parts.hostname)
    except ValueError:
        return text
    if not ip.is_global and not current_app.extensions["turumba.config"].webhook_allow_private:
        raise c.fail(name, "an internal address; webhooks go to public hosts")
    return text


def _email(c: Check, name: str, value: Any) -> str:
    if not isinstance(value, str) or not EMAIL.match(value) or len(value) > 320:
        raise c.fail(name, "an email address")
    return value


@dataclass(frozen=True)
class Action:
    """An action type: its required and optional parameters, and which of them may not
    be given together (``exclusive``: exactly one of them is required)."""

    description: str
    required: dict[str, Param]
    optional: dict[str, Param]
    exclusive: tuple[str, ...] = ()


_TAG = _text(64)
ACTIONS: dict[str, Action] = {
    "assign_agent": Action(
        "Assign to an agent, or pick one by round-robin or least-loaded among the "
        "conversation's inbox agents",
        {},
        {"agent_id": _member, "strategy": _one_of(STRATEGIES)},
        exclusive=("agent_id", "strategy"),
    ),
    "assign_team": Action("Assign to a team", {"team_id": _existing(get_team, "team")}, {}),
    "unassign": Action("Remove the assignee", {}, {}),
    "add_tag": Action("Tag the conversation", {"tag": _TAG}, {}),
    "remove_tag": Action("Untag the conversation", {"tag": _TAG}, {}),
    "set_status": Action("Change the status", {"status": _one_of(SETTABLE_STATUSES)}, {}),
    "set_priority": Action("Change the priority", {"priority": _one_of(PRIORITIES)}, {}),
    "snooze": Action(
        "Snooze for some minutes, or until the contact's next message", {}, {"minutes": _minutes}
    ),
    "resolve": Action("Resolve the conversation", {}, {}),
    "close": Action("Close the conversation (final)", {}, {}),
    "set_custom_attribute": Action(
        "Set a custom attribute of the conversation", {"key": _text(64), "value": _scalar}, {}
    ),
    "send_message": Action(
        "Reply to the contact with a text or a template",
        {},
        {"body": _template_text, "template_id": _existing(get_template, "template")},
        exclusive=("body", "template_id"),
    ),
    "add_note": Action("Add a private note", {"body": _template_text}, {}),
    "send_email": Action(
        "Email an address, or each member of a team",
        {"subject": _template_text, "body": _template_text},
        {"to": _email, "team_id": _existing(get_team, "team")},
        exclusive=("to", "team_id"),
    ),
    "apply_sla": Action(
        "Apply an SLA policy", {"policy_id": _existing(get_policy, "SLA policy")}, {}
    ),
    "mute": Action("Mute: the contact's new messages no longer wake or reopen it", {}, {}),
    "send_webhook": Action(
        "POST the event and its context, signed with the account's secret, to a URL",
        {"url": _url},
        {},
    ),
}


def check_actions(session: Session, *, account_id: uuid.UUID, actions: Any) -> list[dict]:
    """``actions`` normalised (``[{"type", "params"}]``); an ``InvalidField`` names the
    first offending part as ``actions/<index>[/params/<name>]``."""
    if not isinstance(actions, list) or not actions:
        raise InvalidField("actions", "at least one action is required")
    checked = []
    for index, action in enumerate(actions):
        at = f"actions/{index}"
        if not isinstance(action, dict) or set(action) - {"type", "params"}:
            raise InvalidField(at, 'an object with "type" and "params"')
        spec = ACTIONS.get(action.get("type"))
        if spec is None:
            raise InvalidField(f"{at}/type", f"one of {', '.join(ACTIONS)}")
        params = action.get("params") or {}
        if not isinstance(params, dict):
            raise InvalidField(f"{at}/params", "an object")
        c = Check(session, account_id, f"{at}/params")
        unknown = set(params) - set(spec.required) - set(spec.optional)
        if unknown:
            raise c.fail(sorted(unknown)[0], "not a parameter of this action")
        missing = [name for name in spec.required if name not in params]
        if missing:
            raise c.fail(missing[0], "required")
        given = [name for name in spec.exclusive if name in params]
        if spec.exclusive and len(given) != 1:
            raise InvalidField(f"{at}/params", f"exactly one of {', '.join(spec.exclusive)}")
        checkers = {**spec.required, **spec.optional}
        checked.append(
            {
                "type": action["type"],
                "params": {name: checkers[name](c, name, value) for name, value in params.items()},
            }
        )
    return checked
