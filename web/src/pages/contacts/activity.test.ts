import { describe, expect, it } from "vitest";
import { actionLabel, actorLabel, diffLines, EMPTY, formatValue } from "./activity";

describe("audit diffs", () => {
  it("tells a change field by field, custom fields key by key with their labels", () => {
    const lines = diffLines(
      {
        before: { company: "Engines Ltd", custom_fields: { plan: "free", seats: 3 } },
        after: { company: "Analytical", custom_fields: { plan: "pro", seats: 3, vip: true } },
      },
      { "custom_fields.plan": "Plan" },
    );
    expect(lines).toEqual([
      { field: "company", label: "Company", before: "Engines Ltd", after: "Analytical" },
      { field: "custom_fields.plan", label: "Plan", before: "free", after: "pro" },
      { field: "custom_fields.vip", label: "Vip", before: EMPTY, after: "Yes" },
    ]);
  });

  it("shows a creation's values, without bookkeeping columns or empty fields", () => {
    const lines = diffLines({
      before: null,
      after: { id: "x", name: "Ada", email: null, phone: "+14155550123", custom_fields: {}, deleted_at: null, merged_into_id: null },
    });
    expect(lines.map((l) => [l.label, l.before, l.after])).toEqual([
      ["Name", EMPTY, "Ada"],
      ["Phone", EMPTY, "+14155550123"],
    ]);
  });

  it("shows a deletion's last values as before", () => {
    const lines = diffLines({ before: { name: "Ada", custom_fields: { tags: ["a", "b"] } }, after: null });
    expect(lines).toEqual([
      { field: "name", label: "Name", before: "Ada", after: EMPTY },
      { field: "custom_fields.tags", label: "Tags", before: "a, b", after: EMPTY },
    ]);
  });

  it("formats values readably", () => {
    expect(formatValue(false)).toBe("No");
    expect(formatValue([])).toBe(EMPTY);
    expect(formatValue("")).toBe(EMPTY);
    expect(formatValue(12.5)).toBe("12.5");
    expect(formatValue({ a: 1 })).toBe('{"a":1}');
  });

  it("names the action and who did it", () => {
    expect(actionLabel("contact.updated")).toBe("Updated");
    expect(actionLabel("contact.tagged")).toBe("Tagged");
    expect(actionLabel("contact.untagged")).toBe("Untagged");
    expect(actionLabel("contact.some_thing")).toBe("Some thing");
    const members = [{ user_id: "u1", name: "Ada", email: "a@x" }];
    expect(actorLabel({ actor_type: "user", actor_id: "u1" }, members)).toBe("Ada");
    expect(actorLabel({ actor_type: "user", actor_id: "u2" }, members)).toBe("A former member");
    expect(actorLabel({ actor_type: "automation", actor_id: null }, members)).toBe("Automation");
  });
});
