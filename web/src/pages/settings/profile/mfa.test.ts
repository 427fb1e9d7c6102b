import { describe, expect, it } from "vitest";
import { factorBody, groupSecret, svgSource } from "./mfa";

describe("factorBody", () => {
  it("sends six digits as an authenticator code", () => {
    expect(factorBody(" 123 456 ")).toEqual({ code: "123456" });
    expect(factorBody("012345")).toEqual({ code: "012345" });
  });

  it("sends anything else as a recovery code", () => {
    expect(factorBody("abcd-2345")).toEqual({ recovery_code: "abcd-2345" });
    expect(factorBody("12345")).toEqual({ recovery_code: "12345" });
  });
});

describe("svgSource and groupSecret", () => {
  it("encodes the SVG as a data URI", () => {
    expect(svgSource('<svg xmlns="http://www.w3.org/2000/svg"/>')).toBe(
      "data:image/svg+xml;charset=utf-8,%3Csvg%20xmlns%3D%22http%3A%2F%2Fwww.w3.org%2F2000%2Fsvg%22%2F%3E",
    );
  });

  it("gives inline SVG its namespace", () => {
    const source = svgSource('<svg width="132" height="132" class="segno"><path d="M4 4.5h7"/></svg>');
    expect(decodeURIComponent(source.split(",")[1])).toBe(
      '<svg xmlns="http://www.w3.org/2000/svg" width="132" height="132" class="segno"><path d="M4 4.5h7"/></svg>',
    );
  });

  it("groups the secret by four", () => {
    expect(groupSecret("JBSWY3DPEHPK3PXP")).toBe("JBSW Y3DP EHPK 3PXP");
    expect(groupSecret("ABCDEF")).toBe("ABCD EF");
  });
});
