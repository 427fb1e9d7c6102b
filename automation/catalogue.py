"""What a rule may refer to: triggers, context fields and their operators.

The evaluation context (:mod:`automation.context`) is a versioned JSON document; this
module is its published description. The designer builds its field list from
:data:`FIELDS` (``GET …/automation/fields``), and a rule is refused at save time when its
conditions read a field that is not here, so a typo never becomes a rule that silently
never matches.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from audit.models import ACTOR_TYPES
from events import names
from helpdesk import states
from helpdesk.models import CHANNEL_TYPES, PRIORITIES, SENDER_TYPES

#: The version of the evaluation context document; bumped on any incompatible change.
CONTEXT_VERSION = 1

#: Events a rule may run on.
TRIGGER_EVENTS: tuple[str, ...] = (
    names.CONVERSATION_CREATED,
    names.CONVERSATION_UPDATED,
    names.CONVERSATION_STATUS_CHANGED,
    names.CONVERSATION_ASSIGNED,
    names.MESSAGE_CREATED,
    names.CONTACT_CREATED,
    names.CONTACT_UPDATED,
    names.TAG_ADDED,
    names.TAG_REMOVED,
    names.SLA_WARNING,
    names.SLA_BREACHED,
)

#: Time-based triggers, each with the conversation timestamp it counts from.
SCHEDULES: dict[str, str] = {
    "idle": "no activity on an open conversation for the given minutes",
    "waiting": "the contact has waited for a reply for the given minutes",
    "sla_due": "the given minutes before an SLA deadline",
}

#: Operators per field type, as the designer offers them (JSONLogic names).
OPERATORS: dict[str, tuple[str, ...]] = {
    "text": (
        "==",
        "!=",
        "==_ci",
        "in",
        "in_ci",
        "starts_with",
        "starts_with_ci",
        "ends_with",
        "ends_with_ci",
        "regex",
        "!",
        "!!",
    ),
    "number": ("==", "!=", "<", "<=", ">", ">=", "!", "!!"),
    "boolean": ("==", "!=", "!", "!!"),
    "select": ("==", "!=", "in", "!", "!!"),
    "multiselect": ("in", "some", "all", "none", "!", "!!"),
    "datetime": (
        "datetime==",
        "datetime<",
        "datetime<=",
        "datetime>",
        "datetime>=",
        "within_last",
        "within_next",
        "older_than",
        "in_business_hours",
        "!",
        "!!",
    ),
    "id": ("==", "!=", "in", "!", "!!"),
    "any": ("==", "!=", "in", "<", "<=", ">", ">=", "!", "!!"),
}


@dataclass(frozen=True)
class Field:
    """One readable path of the context document."""

    name: str
    type: str
    label: str
    values: tuple[str, ...] = ()
    #: The path is a prefix: ``conversation.custom_attributes.<key>`` and the like.
    open_ended: bool = False
    operators: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        if not self.operators:
            object.__setattr__(self, "operators", OPERATORS[self.type])


_TIMESTAMPS = (
    ("created_at", "created"),
    ("last_activity_at", "last activity"),
    ("waiting_since", "waiting since"),
    ("first_reply_at", "first reply"),
    ("snoozed_until", "snoozed until"),
    ("resolved_at", "resolved"),
)

FIELDS: tuple[Field, ...] = (
    Field("event.name", "select", "Event", (*TRIGGER_EVENTS, names.AUTOMATION_SCHEDULE_DUE)),
    Field("event.occurred_at", "datetime", "Event time"),
    Field("event.actor.type", "select", "Changed by", ACTOR_TYPES),
    Field("event.actor.id", "id", "Changed by (id)"),
    Field("event.changes", "any", "Changed field (before/after)", open_ended=True),
    Field("conversation.id", "id", "Conversation"),
    Field("conversation.status", "select", "Status", states.STATUSES),
    Field("conversation.priority", "select", "Priority", PRIORITIES),
    Field("conversation.subject", "text", "Subject"),
    Field("conversation.channel_id", "id", "Channel"),
    Field("conversation.assignee_id", "id", "Assignee"),
    Field("conversation.team_id", "id", "Team"),
    Field("conversation.muted", "boolean", "Muted"),
    Field("conversation.tags", "multiselect", "Conversation tags"),
    Field("conversation.custom_attributes", "any", "Custom attribute", open_ended=True),
    *(Field(f"conversation.{key}", "datetime", label.capitalize()) for key, label in _TIMESTAMPS),
    Field("message.id", "id", "Message"),
    Field("message.kind", "select", "Message kind", ("inbound", "outbound", "note")),
    Field("message.direction", "select", "Direction", ("inbound", "outbound")),
    Field("message.private", "boolean", "Private note"),
    Field("message.sender_type", "select", "Sender", SENDER_TYPES),
    Field("message.body", "text", "Message text"),
    Field("message.auto_reply", "boolean", "Sent by a machine (out-of-office, bounce, list)"),
    Field("message.created_at", "datetime", "Message time"),
    Field("contact.id", "id", "Contact"),
    Field("contact.name", "text", "Contact name"),
    Field("contact.email", "text", "Contact email"),
    Field("contact.phone", "text", "Contact phone"),
    Field("contact.company", "text", "Company"),
    Field("contact.tags", "multiselect", "Contact tags"),
    Field("contact.created_at", "datetime", "Contact created"),
    Field("assignee.id", "id", "Assignee"),
    Field("assignee.name", "text", "Assignee name"),
    Field("assignee.email", "text", "Assignee email"),
    Field("team.id", "id", "Team"),
    Field("team.name", "text", "Team name"),
    Field("channel.id", "id", "Channel"),
    Field("channel.type", "select", "Channel type", CHANNEL_TYPES),
    Field("channel.name", "text", "Channel name"),
    Field("account.id", "id", "Account"),
    Field("account.name", "text", "Account name"),
)
_EXACT = {f.name: f for f in FIELDS if not f.open_ended}
_PREFIXES = tuple(f"{f.name}." for f in FIELDS if f.open_ended)


def known_field(path: str) -> bool:
    """Whether ``path`` reads the context: a listed field, or a key under an open-ended
    one (``conversation.custom_attributes.plan``)."""
    return path in _EXACT or path.startswith(_PREFIXES)


#: Operators whose second argument runs once per item, reading the item, not the context.
_PER_ITEM = frozenset({"map", "filter", "reduce", "all", "some", "none"})


def unknown_fields(logic: object, at: str = "") -> list[tuple[str, str]]:
    """Every ``(pointer, path)`` where ``logic`` reads a path that is not a known field.

    Only literal paths are checked (a path computed at run time cannot be); reads inside
    a per-item operator's body read the item and are left alone.
    """
    found: list[tuple[str, str]] = []
    if isinstance(logic, list):
        for index, item in enumerate(logic):
            found += unknown_fields(item, f"{at}/{index}")
        return found
    if not isinstance(logic, dict) or len(logic) != 1:
        return found
    ((operator, args),) = logic.items()
    here = f"{at}/{operator}"
    if operator == "var":
        path = args[0] if isinstance(args, list) and args else args
        if isinstance(path, str) and path and not known_field(path):
            found.append((here, path))
        return found
    if operator in ("missing", "missing_some"):
        paths = args[1] if operator == "missing_some" and isinstance(args, list) else args
        for index, path in enumerate(paths if isinstance(paths, list) else [paths]):
            if isinstance(path, str) and not known_field(path):
                found.append((f"{here}/{index}", path))
        return found
    if operator in _PER_ITEM and isinstance(args, list):
        for index, item in enumerate(args):
            if index != 1:
                found += unknown_fields(item, f"{here}/{index}")
        return found
    return unknown_fields(args, here)
