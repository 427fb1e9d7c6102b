import { describe, expect, it } from "vitest";
import { visiblePages } from "./pages";

describe("visiblePages", () => {
  it("shows only the profile to a member without permissions", () => {
    expect(visiblePages([]).map((p) => p.path)).toEqual(["profile"]);
  });

  it("shows the pages an agent may read", () => {
    const paths = visiblePages(["settings:read", "members:read", "conversations:read"]).map((p) => p.path);
    expect(paths).toEqual(["profile", "account", "members", "roles", "channels", "canned-responses", "templates", "sla-policies"]);
  });

  it("hides the helpdesk pages without conversations:read", () => {
    expect(visiblePages(["members:read"]).map((p) => p.path)).toEqual(["profile", "members", "roles"]);
  });
});
