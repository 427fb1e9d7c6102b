/**
 * A contact's audit entries (`GET …/audit-log?filter=target_id:eq:<id>`) told readably:
 * what was done, by whom, and per field the value before and after. A creation has only
 * `after`, a deletion only `before`, a change both with just the fields that changed;
 * custom fields are kept as one `custom_fields` object and are told key by key here.
 */

import type { AuditEntry, Member } from "./types";

export interface DiffLine {
  field: string;
  label: string;
  before: string;
  after: string;
}

export const EMPTY = "—";

const BUILT_IN_LABELS: Record<string, string> = {
  name: "Name",
  email: "Email",
  phone: "Phone",
  company: "Company",
};
/** Bookkeeping columns of the snapshot, not something a person changed. */
const HIDDEN = new Set(["id", "deleted_at", "merged_into_id"]);

export function formatValue(value: unknown): string {
  if (value === null || value === undefined || value === "") return EMPTY;
  if (typeof value === "boolean") return value ? "Yes" : "No";
  if (Array.isArray(value)) return value.length ? value.map((item) => formatValue(item)).join(", ") : EMPTY;
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

/** `{name, custom_fields: {plan}}` → `{name, "custom_fields.plan"}`. */
function flatten(values: Record<string, unknown> | null): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(values ?? {})) {
    if (HIDDEN.has(key)) continue;
    if (key === "custom_fields" && value && typeof value === "object" && !Array.isArray(value)) {
      for (const [inner, innerValue] of Object.entries(value as Record<string, unknown>)) out[`custom_fields.${inner}`] = innerValue;
    } else {
      out[key] = value;
    }
  }
  return out;
}

function humanise(field: string): string {
  const words = field.replace(/^custom_fields\./, "").replace(/_/g, " ");
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/**
 * The fields an entry changed, built-in fields first, then custom fields (labelled from
 * `labels`: `custom_fields.<key>` → the field's label). Fields without a value on either
 * side, and fields whose value did not change, are left out.
 */
export function diffLines(entry: Pick<AuditEntry, "before" | "after">, labels: Record<string, string> = {}): DiffLine[] {
  const before = flatten(entry.before);
  const after = flatten(entry.after);
  const fields = [...new Set([...Object.keys(before), ...Object.keys(after)])];
  const rank = (field: string) => {
    const builtIn = Object.keys(BUILT_IN_LABELS).indexOf(field);
    if (builtIn >= 0) return builtIn;
    return field.startsWith("custom_fields.") ? 100 : 50;
  };
  fields.sort((a, b) => rank(a) - rank(b));
  return fields
    .map((field) => ({
      field,
      label: labels[field] ?? BUILT_IN_LABELS[field] ?? humanise(field),
      before: formatValue(before[field]),
      after: formatValue(after[field]),
    }))
    .filter((line) => line.before !== line.after);
}

const ACTIONS: Record<string, string> = {
  "contact.created": "Created",
  "contact.updated": "Updated",
  "contact.deleted": "Deleted",
  "contact.restored": "Restored",
  "contact.merged": "Merged",
  "contact.tagged": "Tagged",
  "contact.untagged": "Untagged",
};

export function actionLabel(action: string): string {
  if (ACTIONS[action]) return ACTIONS[action];
  const last = action.split(".").pop() ?? action;
  return humanise(last);
}

export function actorLabel(entry: Pick<AuditEntry, "actor_type" | "actor_id">, members: Member[]): string {
  switch (entry.actor_type) {
    case "user":
      return members.find((member) => member.user_id === entry.actor_id)?.name ?? "A former member";
    case "api_token":
      return "An API token";
    case "automation":
      return "Automation";
    default:
      return "The system";
  }
}
