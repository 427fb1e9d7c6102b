import { describe, expect, it } from "vitest";
import { configBody, parseValue, toRows } from "./config";

describe("channel config", () => {
  const original = { from_address: "help@example.com", secret: { set: true }, require_identity: true, port: 587 };

  it("shows secrets as set without their value", () => {
    expect(toRows(original)).toEqual([
      { key: "from_address", value: "help@example.com", secretSet: false },
      { key: "secret", value: "", secretSet: true },
      { key: "require_identity", value: "true", secretSet: false },
      { key: "port", value: "587", secretSet: false },
    ]);
  });

  it("sends nothing when nothing changed", () => {
    expect(configBody(toRows(original), original)).toEqual({});
  });

  it("sends changes, new secrets and removed keys as null", () => {
    const rows = toRows(original)
      .filter((r) => r.key !== "from_address")
      .map((r) => (r.key === "secret" ? { ...r, value: "s3cret" } : r.key === "port" ? { ...r, value: "2525" } : r));
    rows.push({ key: "reply_to", value: "team@example.com", secretSet: false });
    expect(configBody(rows, original)).toEqual({ secret: "s3cret", port: 2525, reply_to: "team@example.com", from_address: null });
  });

  it("sends every filled row of a new channel, skipping blank keys", () => {
    expect(
      configBody(
        [
          { key: " webhook_url ", value: "https://example.com/hook", secretSet: false },
          { key: "", value: "ignored", secretSet: false },
          { key: "enabled_flag", value: "false", secretSet: false },
        ],
        null,
      ),
    ).toEqual({ webhook_url: "https://example.com/hook", enabled_flag: false });
  });

  it("parses booleans, and numbers where a number was", () => {
    expect(parseValue("true")).toBe(true);
    expect(parseValue("42")).toBe("42");
    expect(parseValue("42", 7)).toBe(42);
    expect(parseValue("abc", 7)).toBe("abc");
  });
});
