/**
 * What the contact list filters and sorts on, as `GET …/contacts` allows it (api/contacts.py
 * and api/custom_fields.py): the built-in columns and each custom field as
 * `custom_fields.<key>`, with the operators the API accepts for each and the kind of value
 * an operator takes (which input the filter editor shows).
 */

import type { CustomField } from "./types";

export type Op = "eq" | "ne" | "lt" | "lte" | "gt" | "gte" | "in" | "contains" | "icontains" | "startswith" | "isnull";
export type ValueKind = "text" | "number" | "date" | "boolean" | "option";

export interface ListField {
  name: string;
  label: string;
  kind: ValueKind;
  ops: Op[];
  sortable: boolean;
  /** The choices of a select field. */
  options?: string[];
}

const TEXT_OPS: Op[] = ["eq", "ne", "in", "contains", "icontains", "startswith", "isnull"];
const ORDERED_OPS: Op[] = ["eq", "ne", "lt", "lte", "gt", "gte", "in", "isnull"];

export const OP_LABELS: Record<Op, string> = {
  eq: "is",
  ne: "is not",
  lt: "is less than",
  lte: "is at most",
  gt: "is more than",
  gte: "is at least",
  in: "is one of",
  contains: "contains",
  icontains: "contains (any case)",
  startswith: "starts with",
  isnull: "is empty",
};

/** Date fields read better with "before"/"after". */
const DATE_OP_LABELS: Partial<Record<Op, string>> = { lt: "is before", lte: "is on or before", gt: "is after", gte: "is on or after" };

export function opLabel(field: ListField | undefined, op: Op): string {
  return (field?.kind === "date" && DATE_OP_LABELS[op]) || OP_LABELS[op];
}

export const BUILT_IN_FIELDS: ListField[] = [
  { name: "name", label: "Name", kind: "text", ops: TEXT_OPS, sortable: true },
  { name: "email", label: "Email", kind: "text", ops: TEXT_OPS, sortable: true },
  { name: "phone", label: "Phone", kind: "text", ops: TEXT_OPS, sortable: true },
  { name: "company", label: "Company", kind: "text", ops: TEXT_OPS, sortable: true },
  { name: "created_at", label: "Created", kind: "date", ops: ORDERED_OPS, sortable: true },
  { name: "updated_at", label: "Updated", kind: "date", ops: ORDERED_OPS, sortable: true },
];

/** A custom field as the list reads it (api/custom_fields.py `listing_fields`). */
export function customListField(definition: CustomField): ListField {
  const name = `custom_fields.${definition.key}`;
  const base = { name, label: definition.label, sortable: definition.type !== "multi_select" };
  switch (definition.type) {
    case "number":
      return { ...base, kind: "number", ops: ORDERED_OPS };
    case "date":
      return { ...base, kind: "date", ops: ORDERED_OPS };
    case "boolean":
      return { ...base, kind: "boolean", ops: ["eq", "ne", "isnull"] };
    case "single_select":
      return { ...base, kind: "option", ops: ["eq", "ne", "in", "isnull"], options: definition.options };
    case "multi_select":
      return { ...base, kind: "option", ops: ["contains", "in", "isnull"], options: definition.options };
    default:
      return { ...base, kind: "text", ops: TEXT_OPS };
  }
}

export function listFields(definitions: CustomField[]): ListField[] {
  return [...BUILT_IN_FIELDS, ...definitions.filter((d) => d.entity === "contact").map(customListField)];
}
