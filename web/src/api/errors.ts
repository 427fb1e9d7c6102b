/**
 * The API's one error envelope (`{code, message, status, errors}`) as the console uses it:
 * a message for the form as a whole and, per field, the messages to show next to it.
 */

export type FieldErrors = Record<string, string[]>;

export interface ErrorBody {
  code: string;
  message?: string;
  status?: number;
  errors?: unknown;
  request_id?: string;
}

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly fields: FieldErrors;
  readonly body: ErrorBody | null;

  constructor(status: number, body: ErrorBody | null, fallback: string) {
    super(body?.message || fallback);
    this.name = "ApiError";
    this.status = status;
    this.code = body?.code ?? (status === 0 ? "network_error" : "error");
    this.fields = flattenErrors(body?.errors);
    this.body = body;
  }

  /** The messages for `field` (`email`, `custom_fields.plan`), joined for display. */
  field(name: string): string | undefined {
    const messages = this.fields[name];
    return messages?.length ? messages.join(" ") : undefined;
  }
}

/**
 * `errors` as `{"a.b": [messages]}`: the API keys some errors by nested objects
 * (`{"custom_fields": {"plan": ["…"]}}`) or by list index (`{"items": {"0": {…}}}`) and
 * a few by a single message; `_schema` is the body as a whole.
 */
export function flattenErrors(errors: unknown, prefix = ""): FieldErrors {
  const out: FieldErrors = {};
  if (errors === null || errors === undefined) return out;
  const key = prefix || "_schema";
  if (typeof errors === "string") {
    out[key] = [errors];
  } else if (Array.isArray(errors)) {
    const strings = errors.filter((e): e is string => typeof e === "string");
    if (strings.length) out[key] = strings;
    for (const nested of errors.filter((e) => typeof e === "object" && e !== null)) {
      mergeInto(out, flattenErrors(nested, prefix));
    }
  } else if (typeof errors === "object") {
    for (const [name, value] of Object.entries(errors as Record<string, unknown>)) {
      mergeInto(out, flattenErrors(value, prefix ? `${prefix}.${name}` : name));
    }
  }
  return out;
}

function mergeInto(target: FieldErrors, source: FieldErrors): void {
  for (const [name, messages] of Object.entries(source)) {
    target[name] = [...(target[name] ?? []), ...messages];
  }
}

/** What to tell the user about `error`, whatever it is. */
export function describe(error: unknown): string {
  if (error instanceof ApiError) {
    if (error.status === 0) return "The server cannot be reached. Check your connection and try again.";
    return error.message;
  }
  if (error instanceof Error) return error.message;
  return "Something went wrong.";
}
