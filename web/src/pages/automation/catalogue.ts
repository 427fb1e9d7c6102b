/**
 * The server's automation catalogue (`GET …/automation/fields`) turned into the query
 * builder's configuration: one builder field per catalogue field, one builder operator
 * per JSONLogic shape the server evaluates, and the value pickers each needs. Pure: the
 * caller passes the builder's base configuration (with or without its React widgets), so
 * the mapping is tested without a browser.
 *
 * Every operator below writes exactly the JSONLogic the server's evaluator reads
 * (`automation/jsonlogic`), and reads it back (`loadFromJsonLogic`) unchanged, so the
 * builder and the JSONLogic view round-trip.
 */

import type { Config, Fields, ImmutableTree, JsonLogicTree, Operators, Types, Widgets } from "@react-awesome-query-builder/ui";
import { Utils as QbUtils } from "@react-awesome-query-builder/ui";

export interface CatalogueField {
  name: string;
  type: string;
  label: string;
  values: string[];
  open_ended: boolean;
  operators: string[];
}

export interface ActionParameter {
  name: string;
  required: boolean;
}

export interface ActionType {
  type: string;
  description: string;
  parameters: ActionParameter[];
  one_of: string[];
}

export interface Catalogue {
  version: number;
  events: string[];
  schedules: Record<string, string>;
  fields: CatalogueField[];
  actions: ActionType[];
}

export interface Choice {
  value: string;
  label: string;
}

/** The account's lists a value picker may offer. */
export type OptionLists = Partial<Record<"members" | "teams" | "channels" | "tags" | "segments", Choice[]>>;

/** Fields whose values are ids or names of the account's things: picked from a list. */
export const OPTION_SOURCES: Record<string, keyof OptionLists> = {
  "conversation.assignee_id": "members",
  "assignee.id": "members",
  "event.actor.id": "members",
  "conversation.team_id": "teams",
  "team.id": "teams",
  "conversation.channel_id": "channels",
  "channel.id": "channels",
  "conversation.tags": "tags",
  "contact.tags": "tags",
  "contact.segments": "segments",
};

export const UNITS = ["minutes", "hours", "days", "weeks"] as const;

type Template = (field: unknown, op: string, value: unknown) => Record<string, unknown>;

interface OperatorSpec {
  label: string;
  jsonLogic: string | Template;
  cardinality?: number;
}

const relative = (name: string, unit: string): Template => (field, _op, value) => ({ [name]: [field, value, unit] });

/** The builder's operators, keyed by the builder's name; each one JSONLogic shape. */
export const OPERATORS: Record<string, OperatorSpec> = {
  equal: { label: "equals", jsonLogic: "==" },
  not_equal: { label: "does not equal", jsonLogic: "!=" },
  equal_ci: { label: "equals (any case)", jsonLogic: "==_ci" },
  less: { label: "is less than", jsonLogic: "<" },
  less_or_equal: { label: "is at most", jsonLogic: "<=" },
  greater: { label: "is greater than", jsonLogic: ">" },
  greater_or_equal: { label: "is at least", jsonLogic: ">=" },
  contains: { label: "contains", jsonLogic: (field, _op, value) => ({ in: [value, field] }) },
  contains_ci: { label: "contains (any case)", jsonLogic: (field, _op, value) => ({ in_ci: [value, field] }) },
  any_in: { label: "is one of", jsonLogic: "in" },
  starts_with: { label: "starts with", jsonLogic: "starts_with" },
  starts_with_ci: { label: "starts with (any case)", jsonLogic: "starts_with_ci" },
  ends_with: { label: "ends with", jsonLogic: "ends_with" },
  ends_with_ci: { label: "ends with (any case)", jsonLogic: "ends_with_ci" },
  regex: { label: "matches the pattern", jsonLogic: "regex" },
  is_empty: { label: "is empty", jsonLogic: "!", cardinality: 0 },
  is_not_empty: { label: "is not empty", jsonLogic: "!!", cardinality: 0 },
  some_in: { label: "has any of", jsonLogic: (field, _op, value) => ({ some: [field, { in: [{ var: "" }, value] }] }) },
  all_in: { label: "has only", jsonLogic: (field, _op, value) => ({ all: [field, { in: [{ var: "" }, value] }] }) },
  none_in: { label: "has none of", jsonLogic: (field, _op, value) => ({ none: [field, { in: [{ var: "" }, value] }] }) },
  datetime_equal: { label: "is at", jsonLogic: "datetime==" },
  datetime_before: { label: "is before", jsonLogic: "datetime<" },
  datetime_before_or_at: { label: "is at or before", jsonLogic: "datetime<=" },
  datetime_after: { label: "is after", jsonLogic: "datetime>" },
  datetime_after_or_at: { label: "is at or after", jsonLogic: "datetime>=" },
  ...Object.fromEntries(
    UNITS.flatMap((unit) => [
      [`within_last_${unit}`, { label: `is within the last … ${unit}`, jsonLogic: relative("within_last", unit) }],
      [`within_next_${unit}`, { label: `is within the next … ${unit}`, jsonLogic: relative("within_next", unit) }],
      [`older_than_${unit}`, { label: `is more than … ${unit} ago`, jsonLogic: relative("older_than", unit) }],
    ]),
  ),
  in_business_hours: { label: "is in business hours", jsonLogic: "in_business_hours" },
};

/** A server operator of a field type: the builder operators that write it, and the widget
 * that picks their value. */
export interface Mapped {
  operators: string[];
  widget: string;
}

const EMPTY: Record<string, Mapped> = {
  "!": { operators: ["is_empty"], widget: "" },
  "!!": { operators: ["is_not_empty"], widget: "" },
};
const one = (operator: string, widget: string): Mapped => ({ operators: [operator], widget });
const COMPARE: Record<string, string> = { "==": "equal", "!=": "not_equal", "<": "less", "<=": "less_or_equal", ">": "greater", ">=": "greater_or_equal" };

/** Builder types: the server's field types, and `id` split by whether a list names them. */
export type BuilderType = "text" | "number" | "boolean" | "select" | "multiselect" | "instant" | "id" | "id_list" | "any";

/** How each server operator of each field type is written by the builder. */
export function mapOperator(type: BuilderType, operator: string): Mapped | undefined {
  const main = MAIN_WIDGET[type];
  if (operator in EMPTY) return { ...EMPTY[operator], widget: main };
  if (type === "instant") {
    const dated: Record<string, string> = {
      "datetime==": "datetime_equal",
      "datetime<": "datetime_before",
      "datetime<=": "datetime_before_or_at",
      "datetime>": "datetime_after",
      "datetime>=": "datetime_after_or_at",
    };
    if (dated[operator]) return one(dated[operator], "utc_datetime");
    if (["within_last", "within_next", "older_than"].includes(operator)) {
      return { operators: UNITS.map((unit) => `${operator}_${unit}`), widget: "number" };
    }
    if (operator === "in_business_hours") return one("in_business_hours", "hours");
    return undefined;
  }
  if (type === "multiselect") {
    if (operator === "in") return one("contains", "select");
    if (["some", "all", "none"].includes(operator)) return one(`${operator}_in`, "multiselect");
    return undefined;
  }
  if (type === "select" || type === "id_list" || type === "id") {
    if (operator === "==" || operator === "!=") return one(COMPARE[operator], main);
    if (operator === "in") return one("any_in", type === "id" ? "text_list" : "multiselect");
    return undefined;
  }
  if (type === "text" || type === "any") {
    const text: Record<string, string> = {
      "==": "equal",
      "!=": "not_equal",
      "==_ci": "equal_ci",
      in: "contains",
      in_ci: "contains_ci",
      starts_with: "starts_with",
      starts_with_ci: "starts_with_ci",
      ends_with: "ends_with",
      ends_with_ci: "ends_with_ci",
      regex: "regex",
      ...(type === "any" ? { "<": "less", "<=": "less_or_equal", ">": "greater", ">=": "greater_or_equal" } : {}),
    };
    return text[operator] ? one(text[operator], "text") : undefined;
  }
  if (type === "number" && COMPARE[operator]) return one(COMPARE[operator], "number");
  if (type === "boolean" && (operator === "==" || operator === "!=")) return one(COMPARE[operator], "boolean");
  return undefined;
}

const MAIN_WIDGET: Record<BuilderType, string> = {
  text: "text",
  number: "number",
  boolean: "boolean",
  select: "select",
  multiselect: "select",
  instant: "utc_datetime",
  id: "text",
  id_list: "select",
  any: "text",
};

/** The builder type of a catalogue field. */
export function builderType(field: CatalogueField): BuilderType {
  if (field.type === "id") return OPTION_SOURCES[field.name] ? "id_list" : "id";
  // Not "datetime": the builder would read a number of such a field (a relative window's
  // amount) back as a date.
  if (field.type === "datetime") return "instant";
  if (field.type in MAIN_WIDGET) return field.type as BuilderType;
  return "any";
}

/** The list a field's values are picked from: the catalogue's values, or the account's. */
export function choicesOf(field: CatalogueField, lists: OptionLists): Choice[] | undefined {
  const source = OPTION_SOURCES[field.name];
  if (source) return lists[source] ?? [];
  if (field.values.length) return field.values.map((value) => ({ value, label: value }));
  return undefined;
}

/** Fields the builder offers: open-ended ones (`…custom_attributes.<key>`) need a key
 * the catalogue cannot list, so they are written in the JSONLogic view instead. */
export function builderFields(catalogue: Catalogue): CatalogueField[] {
  return catalogue.fields.filter((field) => !field.open_ended);
}

const STRUCT_LABELS: Record<string, string> = {
  event: "Event",
  "event.actor": "Changed by",
  conversation: "Conversation",
  message: "Message",
  contact: "Contact",
  "contact.custom_fields": "Contact custom fields",
  assignee: "Assignee",
  team: "Team",
  channel: "Channel",
  account: "Account",
};

/** `2024-05-01 10:00:00` (the picker's value, UTC) as the ISO instant the server compares. */
export function toIsoInstant(value: unknown): unknown {
  if (typeof value !== "string" || !/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}(:\d{2})?$/.test(value)) return value;
  return `${value.replace(" ", "T")}${value.length === 16 ? ":00" : ""}Z`;
}

/** An ISO instant back to the picker's value (UTC). */
export function fromIsoInstant(value: unknown): unknown {
  if (typeof value !== "string") return value;
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return value;
  return date.toISOString().slice(0, 19).replace("T", " ");
}

/** Comma-separated ids as the list `in` compares against, and back. */
export const splitList = (value: unknown): unknown =>
  typeof value === "string" ? value.split(",").map((part) => part.trim()).filter(Boolean) : value;
export const joinList = (value: unknown): unknown => (Array.isArray(value) ? value.join(", ") : value);

/** A business-hours document typed as JSON in the value box, and back. */
export function parseHours(value: unknown): unknown {
  if (typeof value !== "string") return value;
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}
export const showHours = (value: unknown): unknown => (typeof value === "string" ? value : JSON.stringify(value));

/** The operators the server offers per field type (`OPERATORS` in
 * `automation/catalogue.py`): custom fields of a type get these. */
export const SERVER_OPERATORS: Record<string, string[]> = {
  text: ["==", "!=", "==_ci", "in", "in_ci", "starts_with", "starts_with_ci", "ends_with", "ends_with_ci", "regex", "!", "!!"],
  number: ["==", "!=", "<", "<=", ">", ">=", "!", "!!"],
  boolean: ["==", "!=", "!", "!!"],
  select: ["==", "!=", "in", "!", "!!"],
  multiselect: ["in", "some", "all", "none", "!", "!!"],
  datetime: ["datetime==", "datetime<", "datetime<=", "datetime>", "datetime>=", "within_last", "within_next", "older_than", "in_business_hours", "!", "!!"],
  id: ["==", "!=", "in", "!", "!!"],
  any: ["==", "!=", "in", "<", "<=", ">", ">=", "!", "!!"],
};

/** A custom field of contacts (`GET …/custom-fields?entity=contact`). */
export interface CustomField {
  key: string;
  label: string;
  type: string;
  options: string[];
}

const CUSTOM_TYPES: Record<string, string> = {
  text: "text",
  url: "text",
  email: "text",
  phone: "text",
  number: "number",
  boolean: "boolean",
  date: "datetime",
  single_select: "select",
  multi_select: "multiselect",
};

/** The contact's custom fields as catalogue fields under the open-ended
 * `contact.custom_fields`, each typed (and offered the operators) like the catalogue's
 * fields of its type. */
export function customFieldsOf(catalogue: Catalogue, custom: CustomField[]): CatalogueField[] {
  const parent = catalogue.fields.find((f) => f.name === "contact.custom_fields" && f.open_ended);
  if (!parent) return [];
  return custom.flatMap((field) => {
    const type = CUSTOM_TYPES[field.type];
    if (!type || !/^[A-Za-z0-9_]+$/.test(field.key)) return [];
    return [{ name: `contact.custom_fields.${field.key}`, type, label: field.label, values: field.options, open_ended: false, operators: SERVER_OPERATORS[type] }];
  });
}

/** The builder's configuration for `catalogue`, on top of `base` (`BasicConfig`), with
 * the contact's custom fields. */
export function buildConfig(base: Config, catalogue: Catalogue, lists: OptionLists = {}, custom: CustomField[] = []): Config {
  const operators: Operators = {};
  for (const [name, spec] of Object.entries(OPERATORS)) {
    const template = typeof spec.jsonLogic === "function";
    operators[name] = {
      label: spec.label,
      cardinality: spec.cardinality ?? 1,
      jsonLogic: spec.jsonLogic,
      // A template operator is read back by its own name, so two of them never collide.
      ...(template ? { jsonLogic2: name } : {}),
      valueSources: ["value"],
    } as Operators[string];
  }

  const baseWidgets = base.widgets;
  const widgets: Widgets = {
    text: { ...baseWidgets.text, valuePlaceholder: "Value" },
    number: { ...baseWidgets.number, valuePlaceholder: "Number" },
    boolean: { ...baseWidgets.boolean, labelYes: "Yes", labelNo: "No" },
    select: { ...baseWidgets.select, valuePlaceholder: "Pick a value" },
    multiselect: { ...baseWidgets.multiselect, valuePlaceholder: "Pick values" },
    utc_datetime: {
      ...baseWidgets.datetime,
      valueFormat: "YYYY-MM-DD HH:mm:ss",
      jsonLogic: (value: unknown) => toIsoInstant(value),
      jsonLogicImport: (value: unknown) => fromIsoInstant(value),
    },
    text_list: {
      ...baseWidgets.text,
      valuePlaceholder: "Ids, comma-separated",
      jsonLogic: (value: unknown) => splitList(value),
      jsonLogicImport: (value: unknown) => joinList(value),
    },
    hours: {
      ...(baseWidgets.textarea ?? baseWidgets.text),
      valuePlaceholder: '{"timezone": "Europe/Berlin", "weekly": {"mon": [["09:00", "17:00"]]}}',
      jsonLogic: (value: unknown) => parseHours(value),
      jsonLogicImport: (value: unknown) => showHours(value),
    },
  } as Widgets;

  const types: Types = {};
  const typeNames: BuilderType[] = ["text", "number", "boolean", "select", "multiselect", "instant", "id", "id_list", "any"];
  for (const type of typeNames) {
    const byWidget: Record<string, string[]> = {};
    for (const op of SERVER_OPERATORS[type === "instant" ? "datetime" : type === "id_list" ? "id" : type]) {
      const mapped = mapOperator(type, op);
      if (!mapped) continue;
      (byWidget[mapped.widget] ??= []).push(...mapped.operators);
    }
    types[type] = {
      valueSources: ["value"],
      mainWidget: MAIN_WIDGET[type],
      widgets: Object.fromEntries(Object.entries(byWidget).map(([widget, ops]) => [widget, { operators: ops }])),
    } as Types[string];
  }

  const fields: Fields = {};
  for (const field of [...builderFields(catalogue), ...customFieldsOf(catalogue, custom)]) {
    const type = builderType(field);
    const parts = field.name.split(".");
    let level = fields;
    for (let depth = 0; depth < parts.length - 1; depth++) {
      const path = parts.slice(0, depth + 1).join(".");
      const key = parts[depth];
      if (!level[key]) {
        level[key] = { type: "!struct", label: STRUCT_LABELS[path] ?? key, subfields: {} } as Fields[string];
      }
      level = (level[key] as { subfields: Fields }).subfields;
    }
    const operatorsOfField = field.operators.flatMap((op) => mapOperator(type, op)?.operators ?? []);
    const choices = choicesOf(field, lists);
    level[parts[parts.length - 1]] = {
      type,
      label: field.label,
      operators: operatorsOfField,
      valueSources: ["value"],
      ...(choices ? { fieldSettings: { listValues: choices.map((c) => ({ value: c.value, title: c.label })) } } : {}),
    } as Fields[string];
  }

  return {
    ...base,
    conjunctions: base.conjunctions,
    operators,
    widgets,
    types,
    fields,
    settings: {
      ...base.settings,
      groupOperators: [],
      showNot: true,
      canReorder: false,
      canRegroup: false,
      maxNesting: 5,
      fieldPlaceholder: "Pick a field",
      operatorPlaceholder: "Pick a test",
      addRuleLabel: "Add condition",
      addGroupLabel: "Add group",
      notLabel: "Not",
      reverseOperatorsForNot: false,
      removeEmptyGroupsOnLoad: false,
      removeIncompleteRulesOnLoad: false,
    },
  } as Config;
}

/** An empty condition tree (matches every event). */
export function emptyTree(): ImmutableTree {
  return QbUtils.loadTree({ id: QbUtils.uuid(), type: "group" });
}

/** The rule's `conditions` as the builder's tree, with what could not be read. */
export function treeFromConditions(conditions: unknown, config: Config): { tree: ImmutableTree; errors: string[] } {
  if (conditions === true || conditions === null || conditions === undefined) return { tree: emptyTree(), errors: [] };
  const [tree, errors] = QbUtils._loadFromJsonLogic(conditions as JsonLogicTree, config);
  if (!tree) return { tree: emptyTree(), errors: errors.length ? errors : ["These conditions cannot be shown in the builder."] };
  return { tree: QbUtils.checkTree(tree, config), errors };
}

/** The builder's tree as the rule's `conditions` (`true` when it has no condition). */
export function conditionsFromTree(tree: ImmutableTree, config: Config): { conditions: unknown; errors: string[] } {
  const { logic, errors } = QbUtils.jsonLogicFormat(tree, config);
  return { conditions: logic ?? true, errors: errors ?? [] };
}
