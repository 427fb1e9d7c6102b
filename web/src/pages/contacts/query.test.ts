import { describe, expect, it } from "vitest";
import { withQuery } from "../../api/client";
import {
  apiQuery,
  filterExpression,
  isNarrowed,
  nextSort,
  paramsFromState,
  parseFilter,
  sortDirection,
  stateFromParams,
  type ListState,
} from "./query";

const DEFAULT: ListState = { q: "", filters: [], segment: null, sort: null, page: 1, perPage: 25 };

describe("the URL ⇄ query state", () => {
  it("reads an empty query as the defaults", () => {
    expect(stateFromParams(new URLSearchParams(""))).toEqual(DEFAULT);
    expect(paramsFromState(DEFAULT).toString()).toBe("");
  });

  it("round-trips every part, repeated filters and colons in values included", () => {
    const state: ListState = {
      q: "ada",
      filters: [
        { field: "company", op: "icontains", value: "engines" },
        { field: "created_at", op: "gte", value: "2024-05-01T12:00:00Z" },
      ],
      segment: "5f0c6f1e-0000-4000-8000-000000000001",
      sort: "-name",
      page: 3,
      perPage: 50,
    };
    const params = paramsFromState(state);
    expect(params.getAll("filter")).toEqual(["company:icontains:engines", "created_at:gte:2024-05-01T12:00:00Z"]);
    expect(stateFromParams(new URLSearchParams(params.toString()))).toEqual(state);
  });

  it("falls back on defaults for a page or page size it cannot use, and drops malformed filters", () => {
    const state = stateFromParams(new URLSearchParams("page=0&per_page=7&filter=nonsense&filter=name:eq:x"));
    expect(state.page).toBe(1);
    expect(state.perPage).toBe(25);
    expect(state.filters).toEqual([{ field: "name", op: "eq", value: "x" }]);
  });

  it("leaves incomplete filter rows out of the URL", () => {
    const params = paramsFromState({ ...DEFAULT, filters: [{ field: "name", op: "eq", value: " " }, { field: "", op: "", value: "" }] });
    expect(params.toString()).toBe("");
  });
});

describe("filter rows → filter= expressions", () => {
  it("splits on the first two colons only", () => {
    expect(parseFilter("custom_fields.site:eq:https://x.example:8080")).toEqual({
      field: "custom_fields.site",
      op: "eq",
      value: "https://x.example:8080",
    });
    expect(parseFilter("name:eq")).toBeNull();
    expect(parseFilter(":eq:x")).toBeNull();
  });

  it("writes isnull as true or false whatever the value box held", () => {
    expect(filterExpression({ field: "company", op: "isnull", value: "" })).toBe("company:isnull:true");
    expect(filterExpression({ field: "company", op: "isnull", value: "false" })).toBe("company:isnull:false");
  });

  it("tidies the list of an `in` and trims values", () => {
    expect(filterExpression({ field: "custom_fields.plan", op: "in", value: " free, pro ,, " })).toBe("custom_fields.plan:in:free,pro");
    expect(filterExpression({ field: "name", op: "icontains", value: "  ada " })).toBe("name:icontains:ada");
  });

  it("has no expression without a field, an operator or a value", () => {
    expect(filterExpression({ field: "name", op: "", value: "x" })).toBeNull();
    expect(filterExpression({ field: "", op: "eq", value: "x" })).toBeNull();
    expect(filterExpression({ field: "name", op: "eq", value: "" })).toBeNull();
  });
});

describe("the search box", () => {
  it("is sent as the API's q, as typed (the API reads names, emails and phones alike)", () => {
    for (const text of ["Ada", "analytical.exa", "+1 (415) 555", "07700 900", "100% sure"]) {
      expect(apiQuery({ ...DEFAULT, q: text }).q).toBe(text);
    }
    expect(apiQuery({ ...DEFAULT, q: "  ada lovelace " }).q).toBe("ada lovelace");
    expect(withQuery("/c", apiQuery({ ...DEFAULT, q: "   " }))).toBe("/c?page=1&per_page=25");
  });

  it("is sent with the filters, the segment, sort and page", () => {
    const query = apiQuery({ ...DEFAULT, q: "ada", filters: [{ field: "company", op: "eq", value: "X" }], segment: "s", sort: "name", page: 2 });
    expect(query).toEqual({ q: "ada", filter: ["company:eq:X"], segment: "s", sort: "name", page: 2, per_page: 25 });
    expect(withQuery("/c", query)).toBe("/c?q=ada&filter=company%3Aeq%3AX&segment=s&sort=name&page=2&per_page=25");
  });

  it("tells a narrowed list apart", () => {
    expect(isNarrowed(DEFAULT)).toBe(false);
    expect(isNarrowed({ ...DEFAULT, sort: "name", page: 2 })).toBe(false);
    expect(isNarrowed({ ...DEFAULT, q: "a" })).toBe(true);
    expect(isNarrowed({ ...DEFAULT, segment: "s" })).toBe(true);
  });
});

describe("sorting by a column", () => {
  it("goes ascending, then descending, then ascending again", () => {
    expect(nextSort(null, "name")).toBe("name");
    expect(nextSort("name", "name")).toBe("-name");
    expect(nextSort("-name", "name")).toBe("name");
    expect(nextSort("-name", "email")).toBe("email");
  });

  it("says each column's direction for aria-sort", () => {
    expect(sortDirection("name", "name")).toBe("ascending");
    expect(sortDirection("-name", "name")).toBe("descending");
    expect(sortDirection("-name", "email")).toBe("none");
    expect(sortDirection(null, "name")).toBe("none");
  });
});
