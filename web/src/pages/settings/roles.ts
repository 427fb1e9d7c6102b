/**
 * Roles as the members page and the roles page use them: the API's role list (built-in
 * ones keyed owner/admin/agent, custom ones by UUID), what to send to give someone a role
 * (`{role}` or `{role_id}`), and the permission catalogue grouped by resource.
 */

export interface RoleOut {
  id: string;
  name: string;
  description: string | null;
  permissions: string[];
  built_in: boolean;
}

export interface PermissionOut {
  name: string;
  description: string;
  custom_roles: boolean;
}

export interface Held {
  role: string;
  custom_role: { id: string; name: string } | null;
}

/** The value a role picker shows for a member or an invitation: its custom role, else its role. */
export function roleValue(held: Held): string {
  return held.custom_role ? held.custom_role.id : held.role;
}

/** What the API takes to give the role picked (a built-in role by name, a custom one by id). */
export function roleBody(value: string, roles: RoleOut[]): { role: string } | { role_id: string } {
  const role = roles.find((r) => r.id === value);
  return role && !role.built_in ? { role_id: value } : { role: value };
}

/** The label of a role held: "Owner", "Support lead (custom)". */
export function roleLabel(held: Held): string {
  return held.custom_role ? held.custom_role.name : capitalise(held.role);
}

/** The picker's choices: built-in roles first, then the custom ones by name. */
export function roleOptions(roles: RoleOut[]): { group: string; items: { value: string; label: string }[] }[] {
  const builtIn = roles.filter((r) => r.built_in).map((r) => ({ value: r.id, label: capitalise(r.name) }));
  const custom = roles
    .filter((r) => !r.built_in)
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((r) => ({ value: r.id, label: r.name }));
  return [{ group: "Built-in roles", items: builtIn }, ...(custom.length ? [{ group: "Custom roles", items: custom }] : [])];
}

export interface PermissionGroup {
  resource: string;
  label: string;
  permissions: PermissionOut[];
}

/** The catalogue by resource (`contacts:read` → Contacts), in the catalogue's order. */
export function groupPermissions(catalogue: PermissionOut[], { customOnly = true } = {}): PermissionGroup[] {
  const groups = new Map<string, PermissionGroup>();
  for (const permission of catalogue) {
    if (customOnly && !permission.custom_roles) continue;
    const resource = permission.name.split(":")[0];
    let group = groups.get(resource);
    if (!group) {
      group = { resource, label: capitalise(resource.replace(/_/g, " ")), permissions: [] };
      groups.set(resource, group);
    }
    group.permissions.push(permission);
  }
  return [...groups.values()];
}

/** Tick or untick every permission of a group at once. */
export function toggleGroup(selected: string[], group: PermissionGroup, on: boolean): string[] {
  const names = group.permissions.map((p) => p.name);
  const rest = selected.filter((name) => !names.includes(name));
  return on ? [...rest, ...names] : rest;
}

export function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
