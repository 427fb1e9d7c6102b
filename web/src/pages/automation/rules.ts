/**
 * Rules as the designer edits them: the API's shapes, how each action parameter is
 * picked, which of the API's refusals belongs next to which part of the editor, and the
 * per-branch results of a dry run as sentences.
 */

import type { ApiError } from "../../api/errors";
import type { ActionType, Catalogue, Choice } from "./catalogue";

export interface RuleAction {
  type: string;
  params: Record<string, unknown>;
}

export interface Schedule {
  type: string;
  minutes: number;
}

export interface RuleDraft {
  name: string;
  description: string;
  enabled: boolean;
  events: string[];
  schedule: Schedule | null;
  conditions: unknown;
  actions: RuleAction[];
  stop_processing: boolean;
  log_misses: boolean;
}

export interface Rule extends RuleDraft {
  id: string;
  position: number;
  version: number;
  failures: number;
  disabled_reason: string | null;
  created_at: string;
  updated_at: string;
}

export interface Version {
  version: number;
  definition: RuleDraft;
  created_by: string | null;
  created_at: string;
}

export interface TriedCondition {
  at: string;
  rule: unknown;
  result: boolean;
}

export interface Tried {
  matched: boolean;
  conditions: TriedCondition[];
  actions: RuleAction[];
  context: Record<string, unknown>;
}

export interface Run {
  id: string;
  rule_id: string;
  rule_version: number;
  event_name: string;
  conversation_id: string | null;
  matched: boolean;
  conditions: TriedCondition[];
  actions: { type: string; outcome: string; error?: string; reason?: string; ms?: number }[];
  duration_ms: number;
  created_at: string;
}

export const DEFINITION_KEYS = ["name", "description", "enabled", "events", "schedule", "conditions", "actions", "stop_processing", "log_misses"] as const;

export function emptyDraft(): RuleDraft {
  return {
    name: "",
    description: "",
    enabled: true,
    events: ["conversation.created"],
    schedule: null,
    conditions: true,
    actions: [],
    stop_processing: false,
    log_misses: false,
  };
}

/** The editable part of a rule (or of one of its versions). */
export function draftOf(rule: RuleDraft): RuleDraft {
  const draft = emptyDraft();
  for (const key of DEFINITION_KEYS) {
    if (rule[key] !== undefined) (draft as unknown as Record<string, unknown>)[key] = rule[key];
  }
  return draft;
}

/** How a parameter's value is picked. */
export type ParamKind =
  | "member"
  | "team"
  | "tag"
  | "strategy"
  | "status"
  | "priority"
  | "minutes"
  | "template"
  | "policy"
  | "url"
  | "email"
  | "text"
  | "longtext"
  | "scalar";

const KINDS: Record<string, ParamKind> = {
  agent_id: "member",
  team_id: "team",
  tag: "tag",
  strategy: "strategy",
  status: "status",
  priority: "priority",
  minutes: "minutes",
  template_id: "template",
  policy_id: "policy",
  url: "url",
  to: "email",
  body: "longtext",
  subject: "text",
  key: "text",
  value: "scalar",
};

export function paramKind(name: string): ParamKind {
  return KINDS[name] ?? "text";
}

/** The fixed choices of a parameter (the server's `actions.py` lists them). */
export const FIXED_CHOICES: Partial<Record<ParamKind, Choice[]>> = {
  strategy: [
    { value: "round_robin", label: "Round-robin" },
    { value: "least_loaded", label: "Least loaded" },
  ],
  status: ["open", "pending", "resolved", "closed"].map((value) => ({ value, label: value })),
  priority: ["none", "low", "medium", "high", "urgent"].map((value) => ({ value, label: value })),
};

export const PARAM_LABELS: Record<string, string> = {
  agent_id: "Agent",
  team_id: "Team",
  tag: "Tag",
  strategy: "Strategy",
  status: "Status",
  priority: "Priority",
  minutes: "Minutes",
  template_id: "Template",
  policy_id: "SLA policy",
  url: "URL",
  to: "To",
  body: "Text",
  subject: "Subject",
  key: "Attribute",
  value: "Value",
};

export const ACTION_LABELS: Record<string, string> = {
  assign_agent: "Assign to an agent",
  assign_team: "Assign to a team",
  unassign: "Unassign",
  add_tag: "Add a tag",
  remove_tag: "Remove a tag",
  set_status: "Set the status",
  set_priority: "Set the priority",
  snooze: "Snooze",
  resolve: "Resolve",
  close: "Close",
  set_custom_attribute: "Set a custom attribute",
  send_message: "Send a reply",
  add_note: "Add a private note",
  send_email: "Send an email",
  apply_sla: "Apply an SLA policy",
  mute: "Mute",
  send_webhook: "Send a webhook",
};

export const actionLabel = (type: string) => ACTION_LABELS[type] ?? type.replace(/_/g, " ");

/** The parameters an action sends: empty ones left out, and of a one-of pair only the
 * chosen one; minutes as a number. */
export function cleanParams(spec: ActionType | undefined, params: Record<string, unknown>, chosen?: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(params)) {
    if (spec?.one_of.includes(name) && chosen && name !== chosen) continue;
    if (value === "" || value === null || value === undefined) continue;
    out[name] = paramKind(name) === "minutes" && typeof value === "string" ? Number(value) : value;
  }
  return out;
}

/** Which one-of parameter an action uses (the first present, else the first). */
export function chosenOneOf(spec: ActionType | undefined, params: Record<string, unknown>): string | undefined {
  if (!spec?.one_of.length) return undefined;
  return spec.one_of.find((name) => name in params) ?? spec.one_of[0];
}

/** `params` switched to the one-of parameter `name` (the others dropped). */
export function chooseOneOf(spec: ActionType, params: Record<string, unknown>, name: string): Record<string, unknown> {
  const out = Object.fromEntries(Object.entries(params).filter(([key]) => !spec.one_of.includes(key)));
  return { ...out, [name]: params[name] ?? "" };
}

/** `list` with the item at `from` moved to `to`. */
export function moved<T>(list: T[], from: number, to: number): T[] {
  if (from === to || from < 0 || to < 0 || from >= list.length || to >= list.length) return list;
  const copy = [...list];
  const [item] = copy.splice(from, 1);
  copy.splice(to, 0, item);
  return copy;
}

/** The API's refusal sorted by the part of the editor it concerns. */
export interface RuleErrors {
  name?: string;
  description?: string;
  trigger?: string;
  conditions?: string;
  actions: Record<number, { action?: string; params: Record<string, string> }>;
  /** About the list as a whole ("at least one action is required"). */
  actionList?: string;
  other?: string;
}

/** A refusal's key as path parts: `actions/2/params/agent_id`, `json.actions.0.type`. */
function parts(key: string): string[] {
  const split = key.split(/[/.]/).filter(Boolean);
  return split[0] === "json" || split[0] === "rule" ? split.slice(1) : split;
}

export function ruleErrors(error: ApiError | null): RuleErrors {
  const out: RuleErrors = { actions: {} };
  if (!error) return out;
  const add = (current: string | undefined, message: string) => (current ? `${current} ${message}` : message);
  for (const [key, messages] of Object.entries(error.fields)) {
    const message = messages.join(" ");
    const [head, index, kind, param] = parts(key);
    if (head === "name") out.name = add(out.name, message);
    else if (head === "description") out.description = add(out.description, message);
    else if (head === "events" || head === "schedule") out.trigger = add(out.trigger, message);
    else if (head === "conditions") out.conditions = add(out.conditions, `${message} (at ${key.slice(key.indexOf("conditions") + 10) || "/"})`);
    else if (head === "actions" && index !== undefined && /^\d+$/.test(index)) {
      const slot = (out.actions[Number(index)] ??= { params: {} });
      if (kind === "params" && param) slot.params[param] = add(slot.params[param], message);
      else slot.action = add(slot.action, message);
    } else if (head === "actions") out.actionList = add(out.actionList, message);
    else out.other = add(out.other, message);
  }
  return out;
}

const OP_WORDS: Record<string, string> = {
  "==": "equals",
  "!=": "does not equal",
  "==_ci": "equals (any case)",
  in: "contains",
  in_ci: "contains (any case)",
  starts_with: "starts with",
  ends_with: "ends with",
  starts_with_ci: "starts with (any case)",
  ends_with_ci: "ends with (any case)",
  regex: "matches",
  "<": "<",
  "<=": "≤",
  ">": ">",
  ">=": "≥",
  "datetime==": "is at",
  "datetime<": "is before",
  "datetime<=": "is at or before",
  "datetime>": "is after",
  "datetime>=": "is at or after",
  within_last: "is within the last",
  within_next: "is within the next",
  older_than: "is older than",
  in_business_hours: "is in business hours",
  some: "has any of",
  all: "has only",
  none: "has none of",
};

function isVar(node: unknown): node is { var: string | [string] } {
  return typeof node === "object" && node !== null && !Array.isArray(node) && Object.keys(node).length === 1 && "var" in node;
}

/** A branch of a rule's conditions as a short sentence: `All of`, `Priority equals high`. */
export function describeBranch(rule: unknown, labels: Record<string, string> = {}): string {
  if (rule === true) return "Always";
  if (typeof rule !== "object" || rule === null || Array.isArray(rule)) return JSON.stringify(rule);
  const [[op, raw]] = Object.entries(rule as Record<string, unknown>);
  const args = Array.isArray(raw) ? raw : [raw];
  const name = (node: unknown) => {
    if (!isVar(node)) return undefined;
    const path = Array.isArray(node.var) ? node.var[0] : node.var;
    return labels[path] ?? path;
  };
  const value = (node: unknown): string => {
    if (Array.isArray(node)) return node.map(value).join(", ");
    if (typeof node === "object" && node !== null) {
      const inner = node as Record<string, unknown>;
      if ("in" in inner && Array.isArray(inner.in)) return value(inner.in[1]);
      return JSON.stringify(node);
    }
    return labels[`=${String(node)}`] ?? String(node);
  };
  if (op === "and") return "All of";
  if (op === "or") return "Any of";
  if (op === "!" && !isVar(args[0])) return "Not";
  if (op === "!") return `${name(args[0])} is empty`;
  if (op === "!!") return `${name(args[0])} is not empty`;
  const words = OP_WORDS[op] ?? op;
  const field = name(args[0]);
  if ((op === "in" || op === "in_ci") && field === undefined && name(args[1]) !== undefined) {
    return `${name(args[1])} ${words} ${value(args[0])}`;
  }
  if (op === "in" && field !== undefined) return `${field} is one of ${value(args[1])}`;
  if (field === undefined) return JSON.stringify(rule);
  const rest = args.slice(1).map(value).join(" ");
  return rest ? `${field} ${words} ${rest}` : `${field} ${words}`;
}

/** How deep a branch sits (`/and/1/or/0` is 2), for indenting the results. */
export function depthOf(at: string): number {
  if (at === "/" || at === "") return 0;
  return at.split("/").filter(Boolean).length / 2;
}

/** Field labels by `var` path, and choice labels by `=<value>` (agent and team names). */
export function labelsOf(catalogue: Catalogue, choices: Choice[][]): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const field of catalogue.fields) labels[field.name] = field.label;
  for (const list of choices) for (const choice of list) labels[`=${choice.value}`] = choice.label;
  return labels;
}
