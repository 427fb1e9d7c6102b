import { describe, expect, it } from "vitest";
import { withQuery } from "./client";

describe("withQuery", () => {
  it("repeats list values and leaves out empty ones", () => {
    expect(withQuery("/v1/x", { filter: ["name:icontains:ada", "company:isnull:false"], sort: "-created_at", page: 2, q: "", none: undefined })).toBe(
      "/v1/x?filter=name%3Aicontains%3Aada&filter=company%3Aisnull%3Afalse&sort=-created_at&page=2",
    );
  });

  it("adds to a query already there", () => {
    expect(withQuery("/v1/x?tab=mine", { page: 1 })).toBe("/v1/x?tab=mine&page=1");
  });

  it("leaves a path without query alone", () => {
    expect(withQuery("/v1/x", {})).toBe("/v1/x");
    expect(withQuery("/v1/x")).toBe("/v1/x");
  });
});
