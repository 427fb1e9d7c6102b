import { describe as suite, expect, it } from "vitest";
import { ApiError, describe, flattenErrors } from "./errors";

suite("flattenErrors", () => {
  it("keeps field lists as they are", () => {
    expect(flattenErrors({ email: ["Not a valid email address."] })).toEqual({ email: ["Not a valid email address."] });
  });

  it("joins nested keys with dots", () => {
    expect(flattenErrors({ custom_fields: { plan: ["not one of 'free', 'pro'"] } })).toEqual({
      "custom_fields.plan": ["not one of 'free', 'pro'"],
    });
  });

  it("keys list items by their index", () => {
    expect(flattenErrors({ items: { "0": { name: ["required"] }, "2": { email: ["taken"] } } })).toEqual({
      "items.0.name": ["required"],
      "items.2.email": ["taken"],
    });
  });

  it("puts a bare message on the body as a whole", () => {
    expect(flattenErrors("Send either code or recovery_code.")).toEqual({ _schema: ["Send either code or recovery_code."] });
  });

  it("gives nothing for no errors", () => {
    expect(flattenErrors(undefined)).toEqual({});
  });
});

suite("ApiError", () => {
  it("carries the API's code, message and field messages", () => {
    const error = new ApiError(422, { code: "validation_failed", message: "Check the fields.", errors: { password: ["Too short.", "Too common."] } }, "fallback");
    expect(error.code).toBe("validation_failed");
    expect(error.message).toBe("Check the fields.");
    expect(error.field("password")).toBe("Too short. Too common.");
    expect(error.field("email")).toBeUndefined();
  });

  it("falls back when the body is not the API's", () => {
    const error = new ApiError(502, null, "The server answered 502.");
    expect(error.code).toBe("error");
    expect(describe(error)).toBe("The server answered 502.");
  });

  it("tells a network failure apart", () => {
    const error = new ApiError(0, null, "network");
    expect(error.code).toBe("network_error");
    expect(describe(error)).toMatch(/cannot be reached/);
  });
});
