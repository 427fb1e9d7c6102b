/**
 * A channel's `config` as rows the form edits. The API returns secret values as
 * `{"set": true}` (write-only): such a row shows "set" and is only sent when given a new
 * value. On edit the API merges key by key, so a removed key is sent as null.
 */

export type ConfigValue = string | number | boolean | null | { set: true } | unknown;

export interface ConfigRow {
  key: string;
  value: string;
  /** A write-only value the API holds: kept unless a new value is typed. */
  secretSet: boolean;
}

function isSecret(value: ConfigValue): boolean {
  return typeof value === "object" && value !== null && (value as { set?: unknown }).set === true;
}

export function toRows(config: Record<string, ConfigValue> | null | undefined): ConfigRow[] {
  return Object.entries(config ?? {}).map(([key, value]) =>
    isSecret(value)
      ? { key, value: "", secretSet: true }
      : { key, value: typeof value === "string" ? value : JSON.stringify(value), secretSet: false },
  );
}

/** "true"/"false" are booleans, numbers stay numbers where the key held a number; else text. */
export function parseValue(text: string, before?: ConfigValue): ConfigValue {
  if (text === "true") return true;
  if (text === "false") return false;
  if (typeof before === "number" && text.trim() !== "" && !Number.isNaN(Number(text))) return Number(text);
  return text;
}

/** The `config` to send: everything for a new channel; for an existing one, only changes. */
export function configBody(rows: ConfigRow[], original: Record<string, ConfigValue> | null): Record<string, ConfigValue> {
  const out: Record<string, ConfigValue> = {};
  const kept = new Set<string>();
  for (const row of rows) {
    const key = row.key.trim();
    if (!key) continue;
    kept.add(key);
    if (row.secretSet && row.value === "") continue; // unchanged secret
    const value = parseValue(row.value, original?.[key]);
    if (original && key in original && !isSecret(original[key]) && JSON.stringify(original[key]) === JSON.stringify(value)) continue;
    out[key] = value;
  }
  if (original) for (const key of Object.keys(original)) if (!kept.has(key)) out[key] = null;
  return out;
}
