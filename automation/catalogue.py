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
    Field("contact.updated_at", "datetime", "Contact updated"),
    Field("contact.custom_fields", "any", "Contact custom field", open_ended=True),
    Field("contact.segments", "multiselect", "Contact's segments (ids)"),
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


def field_reads(logic: object, at: str = "") -> list[tuple[str, str]]:
    """Every ``(pointer, path)`` where ``logic`` reads a literal path of the context.

    Only literal paths count (a path computed at run time cannot be known); reads inside
    a per-item operator's body read the item and are left alone.
    """
    found: list[tuple[str, str]] = []
    if isinstance(logic, list):
        for index, item in enumerate(logic):
            found += field_reads(item, f"{at}/{index}")
        return found
    if not isinstance(logic, dict) or len(logic) != 1:
        return found
    ((operator, args),) = logic.items()
    here = f"{at}/{operator}"
    if operator == "var":
        path = args[0] if isinstance(args, list) and args else args
        if isinstance(path, str) and path:
            found.append((here, path))
        return found
    if operator in ("missing", "missing_some"):
        paths = args[1] if operator == "missing_some" and isinstance(args, list) else args
        for index, path in enumerate(paths if isinstance(paths, list) else [paths]):
            if isinstance(path, str):
                found.append((f"{here}/{index}", path))
        return found
    if operator in _PER_ITEM and isinstance(args, list):
        for index, item in enumerate(args):
            if index != 1:
                found += field_reads(item, f"{here}/{index}")
        return found
    return field_reads(args, here)


def unknown_fields(logic: object, at: str = "") -> list[tuple[str, str]]:
    """Every ``(pointer, path)`` where ``logic`` reads a path that is not a known field."""
    return [(pointer, path) for pointer, path in field_reads(logic, at) if not known_field(path)]


def reads(logic: object, path: str) -> bool:
    """Whether ``logic`` reads the field ``path``."""
    return any(read == path for _, read in field_reads(logic))


def _is_read_of(node: object, path: str) -> bool:
    if not isinstance(node, dict) or set(node) != {"var"}:
        return False
    args = node["var"]
    return (args[0] if isinstance(args, list) and args else args) == path


def _strings(node: object, at: str) -> list[tuple[str, str]]:
    """The literal strings in ``node`` (in lists and in operations' arguments too)."""
    if isinstance(node, str):
        return [(at, node)]
    if isinstance(node, list):
        return [found for i, item in enumerate(node) for found in _strings(item, f"{at}/{i}")]
    if isinstance(node, dict) and len(node) == 1:
        ((operator, args),) = node.items()
        if operator != "var":
            return _strings(args, f"{at}/{operator}")
    return []


def compared_literals(logic: object, path: str, at: str = "") -> list[tuple[str, str]]:
    """The literal strings ``logic`` compares the field ``path`` with, each with its
    pointer: the other arguments of an operation reading ``{"var": path}``, and the
    strings in the body of a some/all/none over it. For ``contact.segments``: the segment
    ids a rule names ("contact is in segment X")."""
    found: list[tuple[str, str]] = []
    if isinstance(logic, list):
        for index, item in enumerate(logic):
            found += compared_literals(item, path, f"{at}/{index}")
        return found
    if not isinstance(logic, dict) or len(logic) != 1:
        return found
    ((operator, args),) = logic.items()
    if operator == "var":
        return found
    here = f"{at}/{operator}"
    items = args if isinstance(args, list) else [args]
    pointers = [f"{here}/{i}" for i in range(len(items))] if isinstance(args, list) else [here]
    if any(_is_read_of(item, path) for item in items):
        if operator in _PER_ITEM:
            body = list(zip(items, pointers, strict=True))[1:2]
        else:
            body = [(item, p) for item, p in zip(items, pointers, strict=True)]
        for item, pointer in body:
            if not _is_read_of(item, path):
                found += _strings(item, pointer)
        return found
    for item, pointer in zip(items, pointers, strict=True):
        found += compared_literals(item, path, pointer)
    return found
