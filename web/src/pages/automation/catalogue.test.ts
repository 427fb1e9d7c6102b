import { BasicConfig, Utils as QbUtils, type Config, type JsonTree } from "@react-awesome-query-builder/ui";
import { describe, expect, it } from "vitest";
import {
  buildConfig,
  builderFields,
  builderType,
  choicesOf,
  conditionsFromTree,
  customFieldsOf,
  SERVER_OPERATORS,
  mapOperator,
  OPERATORS,
  treeFromConditions,
  UNITS,
  type Catalogue,
} from "./catalogue";
import fixture from "./catalogue.fixture.json";

/** The catalogue as the server publishes it (`GET …/automation/fields`, dumped from
 * `automation/catalogue.py`), plus that module's `OPERATORS` per type. */
const catalogue = fixture as Catalogue;
const lists = {
  members: [{ value: "u-1", label: "Ada" }],
  teams: [{ value: "t-1", label: "Billing" }],
  channels: [{ value: "c-1", label: "Support mail" }],
  tags: [{ value: "vip", label: "vip" }],
  segments: [{ value: "s-1", label: "Churn risk" }],
};
const config: Config = buildConfig(BasicConfig, catalogue, lists);

/** A tree of one rule as the builder's widgets leave it. */
function oneRule(field: string, operator: string, value: unknown[], valueType: string[]) {
  const tree: JsonTree = {
    id: QbUtils.uuid(),
    type: "group",
    children1: [
      {
        id: QbUtils.uuid(),
        type: "rule",
        properties: { field, operator, value, valueSrc: value.map(() => "value"), valueType },
      },
    ],
  } as JsonTree;
  return QbUtils.loadTree(tree);
}

const v = (name: string) => ({ var: name });

/** What the builder writes for each builder operator, and what the server evaluates. */
const WRITES: [string, string, unknown[], string[], unknown][] = [
  ["conversation.subject", "equal", ["Refund"], ["text"], { "==": [v("conversation.subject"), "Refund"] }],
  ["conversation.subject", "not_equal", ["Refund"], ["text"], { "!=": [v("conversation.subject"), "Refund"] }],
  ["conversation.subject", "equal_ci", ["refund"], ["text"], { "==_ci": [v("conversation.subject"), "refund"] }],
  ["contact.email", "contains", ["@example"], ["text"], { in: ["@example", v("contact.email")] }],
  ["contact.email", "contains_ci", ["@EXAMPLE"], ["text"], { in_ci: ["@EXAMPLE", v("contact.email")] }],
  ["contact.name", "starts_with", ["Dr"], ["text"], { starts_with: [v("contact.name"), "Dr"] }],
  ["contact.name", "starts_with_ci", ["dr"], ["text"], { starts_with_ci: [v("contact.name"), "dr"] }],
  ["contact.email", "ends_with", [".org"], ["text"], { ends_with: [v("contact.email"), ".org"] }],
  ["contact.email", "ends_with_ci", [".ORG"], ["text"], { ends_with_ci: [v("contact.email"), ".ORG"] }],
  ["message.body", "regex", ["refund|money back"], ["text"], { regex: [v("message.body"), "refund|money back"] }],
  ["contact.phone", "is_empty", [], [], { "!": v("contact.phone") }],
  ["contact.phone", "is_not_empty", [], [], { "!!": v("contact.phone") }],
  ["conversation.muted", "equal", [true], ["boolean"], { "==": [v("conversation.muted"), true] }],
  ["message.private", "not_equal", [false], ["boolean"], { "!=": [v("message.private"), false] }],
  ["conversation.priority", "equal", ["high"], ["select"], { "==": [v("conversation.priority"), "high"] }],
  ["conversation.status", "not_equal", ["closed"], ["select"], { "!=": [v("conversation.status"), "closed"] }],
  ["conversation.status", "any_in", [["open", "pending"]], ["multiselect"], { in: [v("conversation.status"), ["open", "pending"]] }],
  ["conversation.tags", "contains", ["vip"], ["select"], { in: ["vip", v("conversation.tags")] }],
  ["contact.tags", "some_in", [["vip"]], ["multiselect"], { some: [v("contact.tags"), { in: [{ var: "" }, ["vip"]] }] }],
  ["contact.tags", "all_in", [["vip"]], ["multiselect"], { all: [v("contact.tags"), { in: [{ var: "" }, ["vip"]] }] }],
  ["contact.segments", "none_in", [["s-1"]], ["multiselect"], { none: [v("contact.segments"), { in: [{ var: "" }, ["s-1"]] }] }],
  ["conversation.assignee_id", "equal", ["u-1"], ["select"], { "==": [v("conversation.assignee_id"), "u-1"] }],
  ["conversation.team_id", "any_in", [["t-1"]], ["multiselect"], { in: [v("conversation.team_id"), ["t-1"]] }],
  ["conversation.channel_id", "equal", ["c-1"], ["select"], { "==": [v("conversation.channel_id"), "c-1"] }],
  ["contact.id", "equal", ["abc"], ["text"], { "==": [v("contact.id"), "abc"] }],
  ["contact.id", "any_in", ["a, b"], ["text"], { in: [v("contact.id"), ["a", "b"]] }],
  ["conversation.created_at", "datetime_before", ["2024-05-01 10:00:00"], ["datetime"], { "datetime<": [v("conversation.created_at"), "2024-05-01T10:00:00Z"] }],
  ["conversation.created_at", "datetime_equal", ["2024-05-01 10:00:00"], ["datetime"], { "datetime==": [v("conversation.created_at"), "2024-05-01T10:00:00Z"] }],
  ["conversation.created_at", "datetime_before_or_at", ["2024-05-01 10:00:00"], ["datetime"], { "datetime<=": [v("conversation.created_at"), "2024-05-01T10:00:00Z"] }],
  ["conversation.created_at", "datetime_after", ["2024-05-01 10:00:00"], ["datetime"], { "datetime>": [v("conversation.created_at"), "2024-05-01T10:00:00Z"] }],
  ["conversation.created_at", "datetime_after_or_at", ["2024-05-01 10:00:00"], ["datetime"], { "datetime>=": [v("conversation.created_at"), "2024-05-01T10:00:00Z"] }],
  ...UNITS.flatMap((unit): [string, string, unknown[], string[], unknown][] => [
    ["conversation.waiting_since", `within_last_${unit}`, [3], ["number"], { within_last: [v("conversation.waiting_since"), 3, unit] }],
    ["conversation.snoozed_until", `within_next_${unit}`, [2], ["number"], { within_next: [v("conversation.snoozed_until"), 2, unit] }],
    ["conversation.last_activity_at", `older_than_${unit}`, [30], ["number"], { older_than: [v("conversation.last_activity_at"), 30, unit] }],
  ]),
  [
    "message.created_at",
    "in_business_hours",
    ['{"timezone": "UTC", "weekly": {"mon": [["09:00", "17:00"]]}}'],
    ["text"],
    { in_business_hours: [v("message.created_at"), { timezone: "UTC", weekly: { mon: [["09:00", "17:00"]] } }] },
  ],
];

describe("the catalogue as the builder's configuration", () => {
  it("maps every operator of every field the server knows", () => {
    for (const field of catalogue.fields) {
      for (const op of field.operators) {
        const mapped = mapOperator(builderType(field), op);
        expect(mapped, `${field.name} ${op}`).toBeDefined();
        for (const name of mapped!.operators) expect(OPERATORS[name], name).toBeDefined();
      }
    }
  });

  it("knows the server's operators of every type, as the catalogue lists them", () => {
    expect(SERVER_OPERATORS).toEqual(fixture._operators_by_type);
    for (const field of catalogue.fields) {
      expect(SERVER_OPERATORS[field.type], field.type).toBeDefined();
      for (const op of field.operators) expect(SERVER_OPERATORS[field.type]).toContain(op);
    }
    for (const [type, ops] of Object.entries(SERVER_OPERATORS)) {
      for (const op of ops) expect(mapOperator(type === "datetime" ? "instant" : (type as never), op), `${type} ${op}`).toBeDefined();
    }
  });

  it("offers every closed field, with the operators the catalogue gives it", () => {
    const flat = QbUtils.ConfigUtils.getFieldConfig;
    for (const field of builderFields(catalogue)) {
      const built = flat(config, field.name) as { operators: string[]; label: string } | null;
      expect(built, field.name).toBeTruthy();
      expect(built!.label).toBe(field.label);
      const expected = field.operators.flatMap((op) => mapOperator(builderType(field), op)!.operators);
      expect(built!.operators).toEqual(expected);
    }
    expect(builderFields(catalogue).some((f) => f.open_ended)).toBe(false);
  });

  it("gives list fields the account's things and select fields the catalogue's values", () => {
    const byName = Object.fromEntries(catalogue.fields.map((f) => [f.name, f]));
    expect(choicesOf(byName["conversation.assignee_id"], lists)).toEqual(lists.members);
    expect(choicesOf(byName["conversation.tags"], lists)).toEqual(lists.tags);
    expect(choicesOf(byName["contact.segments"], lists)).toEqual(lists.segments);
    expect(choicesOf(byName["conversation.priority"], lists)!.map((c) => c.value)).toEqual(byName["conversation.priority"].values);
    expect(choicesOf(byName["conversation.team_id"], {})).toEqual([]);
    expect(choicesOf(byName["contact.name"], lists)).toBeUndefined();
  });

  it("covers every builder operator in the cases below", () => {
    const tested = new Set(WRITES.map((w) => w[1]));
    expect(Object.keys(OPERATORS).filter((op) => !tested.has(op))).toEqual(["less", "less_or_equal", "greater", "greater_or_equal"]);
  });
});

describe("the JSONLogic the builder writes", () => {
  it.each(WRITES)("%s %s writes what the server evaluates and reads it back", (field, operator, value, valueType, expected) => {
    const { conditions, errors } = conditionsFromTree(oneRule(field, operator, value, valueType), config);
    expect(errors).toEqual([]);
    expect(conditions).toEqual({ and: [expected] });

    const back = treeFromConditions(conditions, config);
    expect(back.errors).toEqual([]);
    expect(conditionsFromTree(back.tree, config).conditions).toEqual(conditions);
  });

  it("writes nested groups with and/or and not, and reads them back", () => {
    const nested = {
      and: [
        { "==": [v("conversation.priority"), "high"] },
        {
          "!": {
            or: [
              { "==": [v("conversation.channel_id"), "c-1"] },
              { in: ["@example", v("contact.email")] },
            ],
          },
        },
      ],
    };
    const { tree, errors } = treeFromConditions(nested, config);
    expect(errors).toEqual([]);
    expect(conditionsFromTree(tree, config).conditions).toEqual(nested);
  });

  it("writes true for no conditions, and reads true as an empty builder", () => {
    const { tree } = treeFromConditions(true, config);
    expect(conditionsFromTree(tree, config).conditions).toBe(true);
  });

  it("says what it cannot show (a custom attribute, an unknown operator)", () => {
    const custom = treeFromConditions({ "==": [v("conversation.custom_attributes.plan"), "pro"] }, config);
    expect(custom.errors.length).toBeGreaterThan(0);
    const unknown = treeFromConditions({ "==": [{ "+": [1, 2] }, 3] }, config);
    expect(unknown.errors.length).toBeGreaterThan(0);
  });
});

describe("the contact's custom fields", () => {
  const custom = [
    { key: "plan", label: "Plan", type: "single_select", options: ["free", "pro"] },
    { key: "seats", label: "Seats", type: "number", options: [] },
    { key: "renewal", label: "Renewal", type: "date", options: [] },
    { key: "areas", label: "Areas", type: "multi_select", options: ["eu", "us"] },
    { key: "site", label: "Site", type: "url", options: [] },
    { key: "bad key", label: "Not a path", type: "text", options: [] },
  ];
  const withCustom = buildConfig(BasicConfig, catalogue, lists, custom);

  it("are offered under contact.custom_fields, typed like the catalogue's fields", () => {
    const fields = customFieldsOf(catalogue, custom);
    expect(fields.map((f) => f.name)).toEqual([
      "contact.custom_fields.plan",
      "contact.custom_fields.seats",
      "contact.custom_fields.renewal",
      "contact.custom_fields.areas",
      "contact.custom_fields.site",
    ]);
    const byType = (type: string) => SERVER_OPERATORS[type];
    expect(fields[0].operators).toEqual(byType("select"));
    expect(fields[1].operators).toEqual(byType("number"));
    expect(fields[0].values).toEqual(["free", "pro"]);
    expect(fields[2].type).toBe("datetime");
    expect(fields[4].operators).toEqual(byType("text"));
  });

  it.each([
    [{ "==": [v("contact.custom_fields.plan"), "pro"] }],
    [{ ">=": [v("contact.custom_fields.seats"), 10] }],
    [{ "datetime<": [v("contact.custom_fields.renewal"), "2025-01-01T00:00:00Z"] }],
    [{ within_next: [v("contact.custom_fields.renewal"), 30, "days"] }],
    [{ some: [v("contact.custom_fields.areas"), { in: [{ var: "" }, ["eu"]] }] }],
    [{ starts_with: [v("contact.custom_fields.site"), "https://"] }],
  ])("round-trip: %j", (rule) => {
    const conditions = { and: [rule] };
    const { tree, errors } = treeFromConditions(conditions, withCustom);
    expect(errors).toEqual([]);
    expect(conditionsFromTree(tree, withCustom).conditions).toEqual(conditions);
  });
});
