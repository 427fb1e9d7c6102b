"""What each role may do in an account, as ``resource:action`` permissions.

Built-in roles are fixed here; custom roles (per account) choose any subset of
:data:`PERMISSIONS`. Endpoints name the one permission they need
(``@requires("contacts:write")``) and nothing else decides access.
"""

from __future__ import annotations

from tenants.models import Role

#: Every permission there is, with what it allows. Resources grow with the product.
PERMISSIONS: dict[str, str] = {
    "account:read": "See the account's profile",
    "account:delete": "Delete (and restore) the account",
    "settings:read": "See account settings",
    "settings:manage": "Change account settings",
    "members:read": "List members and invitations",
    "members:manage": "Invite, change roles of and remove members (not owners)",
    "owners:manage": "Grant or remove the owner role",
    "roles:manage": "Create, change and delete custom roles",
    "api_tokens:manage": "Create and revoke the account's API tokens",
    "audit:read": "Read the audit log",
    "contacts:read": "List and read contacts",
    "contacts:write": "Create and change contacts",
    "contacts:delete": "Delete contacts",
    "segments:manage": "Create, change and delete contact segments (saved filters that "
    "automation rules may use)",
    "channels:manage": "Create, change and delete channels, their inbox members and "
    "assignment policies, and set agents' capacity",
    "teams:manage": "Create, change and delete teams and their members",
    "conversations:read": "Read conversations",
    "conversations:read_all": "See every conversation in the inbox's all tab (without it: "
    "those of the caller's channel inboxes and teams, and those assigned to the caller)",
    "conversations:write": "Reply to and change conversations",
    "conversations:assign": "Assign conversations to agents and teams",
    "replies:manage": "Create, change and delete canned responses and templates",
    "sla:manage": "Create, change and delete SLA policies and holidays; apply a policy to "
    "a conversation",
    "tags:manage": "Create, rename, merge and delete tags (anyone who tags may add new names)",
    "automation:read": "See automation rules",
    "automation:write": "Create and change automation rules",
}

_AGENT = frozenset(
    {
        "account:read",
        "settings:read",
        "members:read",
        "contacts:read",
        "contacts:write",
        "conversations:read",
        "conversations:write",
        "conversations:assign",
        "automation:read",
    }
)
_OWNER_ONLY = frozenset({"account:delete", "owners:manage"})
#: What a custom role may never grant: custom-role members are bounded below owners.
NOT_FOR_CUSTOM_ROLES = _OWNER_ONLY

BUILT_IN: dict[Role, frozenset[str]] = {
    Role.OWNER: frozenset(PERMISSIONS),
    Role.ADMIN: frozenset(PERMISSIONS) - _OWNER_ONLY,
    Role.AGENT: _AGENT,
}


def permissions_of(role: Role, custom: list[str] | None = None) -> frozenset[str]:
    """The effective permissions of a member: their custom role's, else their built-in role's.

    A custom role's list is intersected with the catalogue (minus the owner-only
    permissions) so a permission removed from the product, or a row written around the
    service, never grants anything.
    """
    if custom is not None:
        return frozenset(custom) & (frozenset(PERMISSIONS) - NOT_FOR_CUSTOM_ROLES)
    return BUILT_IN[role]
