import { describe, expect, it } from "vitest";
import { groupPermissions, roleBody, roleLabel, roleOptions, roleValue, toggleGroup, type RoleOut } from "./roles";

const ROLES: RoleOut[] = [
  { id: "owner", name: "owner", description: null, permissions: [], built_in: true },
  { id: "agent", name: "agent", description: null, permissions: [], built_in: true },
  { id: "4b0c5f0e-4a38-4a1e-9d8a-9c8e5a1d2f10", name: "Support lead", description: null, permissions: [], built_in: false },
  { id: "0c0c5f0e-4a38-4a1e-9d8a-9c8e5a1d2f10", name: "Auditor", description: null, permissions: [], built_in: false },
];

describe("roles", () => {
  it("shows a custom role before the built-in role under it", () => {
    expect(roleValue({ role: "agent", custom_role: { id: "x", name: "Lead" } })).toBe("x");
    expect(roleValue({ role: "admin", custom_role: null })).toBe("admin");
    expect(roleLabel({ role: "agent", custom_role: { id: "x", name: "Lead" } })).toBe("Lead");
    expect(roleLabel({ role: "admin", custom_role: null })).toBe("Admin");
  });

  it("sends a built-in role by name and a custom one by id", () => {
    expect(roleBody("agent", ROLES)).toEqual({ role: "agent" });
    expect(roleBody(ROLES[2].id, ROLES)).toEqual({ role_id: ROLES[2].id });
  });

  it("offers built-in roles first, then custom ones by name", () => {
    expect(roleOptions(ROLES)).toEqual([
      { group: "Built-in roles", items: [{ value: "owner", label: "Owner" }, { value: "agent", label: "Agent" }] },
      { group: "Custom roles", items: [{ value: ROLES[3].id, label: "Auditor" }, { value: ROLES[2].id, label: "Support lead" }] },
    ]);
    expect(roleOptions(ROLES.slice(0, 2))).toHaveLength(1);
  });
});

describe("groupPermissions", () => {
  const catalogue = [
    { name: "account:read", description: "a", custom_roles: true },
    { name: "account:delete", description: "b", custom_roles: false },
    { name: "contacts:read", description: "c", custom_roles: true },
    { name: "api_tokens:manage", description: "d", custom_roles: true },
    { name: "contacts:write", description: "e", custom_roles: true },
  ];

  it("groups by resource in the catalogue's order, leaving out what custom roles cannot have", () => {
    const groups = groupPermissions(catalogue);
    expect(groups.map((g) => g.label)).toEqual(["Account", "Contacts", "Api tokens"]);
    expect(groups[1].permissions.map((p) => p.name)).toEqual(["contacts:read", "contacts:write"]);
    expect(groups[0].permissions.map((p) => p.name)).toEqual(["account:read"]);
  });

  it("keeps everything when asked", () => {
    expect(groupPermissions(catalogue, { customOnly: false })[0].permissions).toHaveLength(2);
  });

  it("ticks and unticks a whole group", () => {
    const contacts = groupPermissions(catalogue)[1];
    expect(toggleGroup(["account:read", "contacts:read"], contacts, true)).toEqual(["account:read", "contacts:read", "contacts:write"]);
    expect(toggleGroup(["account:read", "contacts:read"], contacts, false)).toEqual(["account:read"]);
  });
});
