import { describe, expect, it } from "vitest";
import { listFields, opLabel } from "./fields";
import type { CustomField } from "./types";

const plan: CustomField = {
  id: "1",
  entity: "contact",
  key: "plan",
  label: "Plan",
  type: "single_select",
  required: false,
  regex: null,
  options: ["free", "pro"],
  position: 0,
  description: null,
};

describe("the list's fields", () => {
  it("adds the account's contact custom fields with the operators the API allows", () => {
    const fields = listFields([plan, { ...plan, key: "langs", label: "Languages", type: "multi_select" }, { ...plan, entity: "conversation", key: "x" }]);
    const byName = Object.fromEntries(fields.map((f) => [f.name, f]));
    expect(byName["custom_fields.plan"]).toMatchObject({ label: "Plan", kind: "option", ops: ["eq", "ne", "in", "isnull"], sortable: true, options: ["free", "pro"] });
    expect(byName["custom_fields.langs"]).toMatchObject({ ops: ["contains", "in", "isnull"], sortable: false });
    expect(byName["custom_fields.x"]).toBeUndefined();
    expect(byName.name.ops).toContain("icontains");
  });

  it("words dates' comparisons as before and after", () => {
    const [created] = listFields([]).filter((f) => f.name === "created_at");
    expect(opLabel(created, "lt")).toBe("is before");
    expect(opLabel(undefined, "lt")).toBe("is less than");
  });
});
