/**
 * The contact form's values and the body it sends: on creation the filled-in fields (the
 * API takes the whole set of custom fields then, required ones included); on a change only
 * what differs from the contact as loaded, an emptied field sent as `null` (which removes a
 * custom field's value), so an untouched field is neither rewritten nor logged.
 */

import type { Contact, CustomField } from "./types";

export type CustomValue = string | number | boolean | string[] | null;

export interface FormValues {
  name: string;
  email: string;
  phone: string;
  company: string;
  custom: Record<string, CustomValue>;
}

const BUILT_IN = ["name", "email", "phone", "company"] as const;

/** What an input shows for a stored value of `definition`. */
export function inputValue(definition: CustomField, stored: unknown): CustomValue {
  switch (definition.type) {
    case "boolean":
      return stored === true;
    case "multi_select":
      return Array.isArray(stored) ? stored.map(String) : [];
    case "number":
      return typeof stored === "number" ? stored : "";
    case "single_select":
      return typeof stored === "string" ? stored : null;
    default:
      return stored === null || stored === undefined ? "" : String(stored);
  }
}

export function initialValues(contact: Contact | null, definitions: CustomField[]): FormValues {
  const custom: Record<string, CustomValue> = {};
  for (const definition of definitions) custom[definition.key] = inputValue(definition, contact?.custom_fields[definition.key]);
  return {
    name: contact?.name ?? "",
    email: contact?.email ?? "",
    phone: contact?.phone ?? "",
    company: contact?.company ?? "",
    custom,
  };
}

/** Whether a value counts as not given (false is a value only where the field is required). */
export function isEmpty(value: CustomValue, definition?: CustomField): boolean {
  if (value === null || value === undefined) return true;
  if (typeof value === "string") return value.trim() === "";
  if (Array.isArray(value)) return value.length === 0;
  if (typeof value === "boolean") return !value && !definition?.required;
  return false;
}

/** The value as the API takes it: text trimmed, a number typed as one when it reads as one. */
export function apiValue(value: CustomValue): CustomValue {
  if (typeof value === "string") {
    const text = value.trim();
    return text === "" ? null : text;
  }
  if (Array.isArray(value)) return value.length ? value : null;
  return value;
}

function same(a: CustomValue, b: CustomValue): boolean {
  return JSON.stringify(apiValue(a)) === JSON.stringify(apiValue(b));
}

/** `POST …/contacts` (no `initial`) or `PATCH …/contacts/<id>` (changes from `initial`). */
export function contactBody(values: FormValues, definitions: CustomField[], initial?: FormValues): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  const custom: Record<string, CustomValue> = {};
  for (const field of BUILT_IN) {
    const value = field === "name" ? values.name.trim() : apiValue(values[field]);
    if (!initial) {
      if (field === "name" || value !== null) body[field] = value;
    } else if (!same(values[field], initial[field])) {
      body[field] = value;
    }
  }
  for (const definition of definitions) {
    const value = values.custom[definition.key] ?? null;
    if (!initial) {
      if (!isEmpty(value, definition)) custom[definition.key] = apiValue(value);
    } else if (!same(value, initial.custom[definition.key] ?? null)) {
      custom[definition.key] = apiValue(value);
    }
  }
  if (Object.keys(custom).length || (!initial && definitions.length)) body.custom_fields = custom;
  return body;
}
