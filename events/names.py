"""Every event name there is. Consumers subscribe to these constants, never to strings."""

from __future__ import annotations

CONVERSATION_CREATED = "conversation.created"
CONVERSATION_UPDATED = "conversation.updated"
CONVERSATION_STATUS_CHANGED = "conversation.status_changed"
CONVERSATION_ASSIGNED = "conversation.assigned"
CONVERSATION_MERGED = "conversation.merged"
CONVERSATION_SPLIT = "conversation.split"
CONVERSATION_READ = "conversation.read"
MESSAGE_CREATED = "message.created"
MESSAGE_UPDATED = "message.updated"
CONTACT_CREATED = "contact.created"
CONTACT_UPDATED = "contact.updated"
CONTACT_DELETED = "contact.deleted"
CONTACT_RESTORED = "contact.restored"
CONTACT_MERGED = "contact.merged"
#: An import of contacts completed: one event with its counts, not one per contact
#: (crm.imports.runner).
CONTACTS_IMPORTED = "contacts.imported"
CHANNEL_MEMBER_ADDED = "channel.member_added"
CHANNEL_TEAM_ATTACHED = "channel.team_attached"
TEAM_MEMBER_ADDED = "team.member_added"
TAG_ADDED = "tag.added"
TAG_REMOVED = "tag.removed"
SLA_WARNING = "sla.warning"
SLA_BREACHED = "sla.breached"
AGENT_AVAILABILITY_CHANGED = "agent.availability_changed"
ASSIGNMENT_POLICY_UPDATED = "assignment_policy.updated"
#: Time-based automation rules came due for a conversation (automation.schedules).
AUTOMATION_SCHEDULE_DUE = "automation.schedule_due"

ALL = frozenset(
    value for name, value in dict(globals()).items() if name.isupper() and isinstance(value, str)
)
