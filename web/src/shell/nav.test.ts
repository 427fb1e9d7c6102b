import { describe, expect, it } from "vitest";
import { crumbs, visibleSections } from "./nav";

const ACCOUNT = "0b5c3f57-2f39-4c5e-9d3b-1f1d2d7e5e10";

describe("visibleSections", () => {
  it("shows a section to a member holding any of its permissions", () => {
    const labels = visibleSections(["conversations:read"]).map((s) => s.label);
    expect(labels).toEqual(["Dashboard", "Inbox", "Settings"]);
  });

  it("shows everything to a member holding every permission", () => {
    const labels = visibleSections(["conversations:read", "contacts:read", "automation:read"]).map((s) => s.label);
    expect(labels).toEqual(["Dashboard", "Inbox", "Contacts", "Automation", "Settings"]);
  });
});

describe("crumbs", () => {
  it("names sections and their pages", () => {
    expect(crumbs(`/a/${ACCOUNT}/settings/canned-responses`, ACCOUNT)).toEqual([
      { label: "Settings", to: `/a/${ACCOUNT}/settings` },
      { label: "Canned responses", to: `/a/${ACCOUNT}/settings/canned-responses` },
    ]);
  });

  it("spells out names a path cannot", () => {
    expect(crumbs(`/a/${ACCOUNT}/settings/sla-policies`, ACCOUNT).map((c) => c.label)).toEqual(["Settings", "SLA policies"]);
  });

  it("calls a record by the name given, else Details", () => {
    const id = "9f1d2d7e-5e10-4c5e-9d3b-0b5c3f572f39";
    expect(crumbs(`/a/${ACCOUNT}/contacts/${id}`, ACCOUNT).map((c) => c.label)).toEqual(["Contacts", "Details"]);
    expect(crumbs(`/a/${ACCOUNT}/contacts/${id}`, ACCOUNT, { [id]: "Ada" }).map((c) => c.label)).toEqual(["Contacts", "Ada"]);
  });

  it("gives nothing outside the account", () => {
    expect(crumbs("/signin", ACCOUNT)).toEqual([]);
  });
});
