/**
 * The contact list's query as the console keeps it in its URL (`?q=…&filter=…&segment=…
 * &sort=…&page=…&per_page=…`, so back/forward and reload keep it) and as the API takes it
 * (the shared list grammar, api/listing.py, plus `q`: the search box's text as typed, which
 * the API looks for in the name, email, company and, by its digits, the phone).
 */

import type { Query } from "../../api/client";
import type { Op } from "./fields";

export interface FilterRow {
  field: string;
  op: Op | "";
  value: string;
}

export interface ListState {
  q: string;
  filters: FilterRow[];
  segment: string | null;
  /** `name`, `-updated_at`; null: the API's default (newest first). */
  sort: string | null;
  page: number;
  perPage: number;
}

export const PAGE_SIZES = [10, 25, 50, 100];
export const DEFAULT_PER_PAGE = 25;

/** `field:op:value` → a row; only the first two colons separate (values may hold colons). */
export function parseFilter(expression: string): FilterRow | null {
  const first = expression.indexOf(":");
  const second = first < 0 ? -1 : expression.indexOf(":", first + 1);
  if (first <= 0 || second <= first + 1) return null;
  return {
    field: expression.slice(0, first),
    op: expression.slice(first + 1, second) as Op,
    value: expression.slice(second + 1),
  };
}

/** A row as the API's `filter=` expression; null while the row is not complete. */
export function filterExpression(row: FilterRow): string | null {
  if (!row.field || !row.op) return null;
  if (row.op === "isnull") return `${row.field}:isnull:${row.value === "false" ? "false" : "true"}`;
  let value = row.value.trim();
  if (row.op === "in") {
    value = value
      .split(",")
      .map((item) => item.trim())
      .filter(Boolean)
      .join(",");
  }
  return value ? `${row.field}:${row.op}:${value}` : null;
}

export function stateFromParams(params: URLSearchParams): ListState {
  const page = Number.parseInt(params.get("page") ?? "", 10);
  const perPage = Number.parseInt(params.get("per_page") ?? "", 10);
  return {
    q: params.get("q") ?? "",
    filters: params.getAll("filter").map(parseFilter).filter((row): row is FilterRow => row !== null),
    segment: params.get("segment") || null,
    sort: params.get("sort") || null,
    page: Number.isFinite(page) && page >= 1 ? page : 1,
    perPage: PAGE_SIZES.includes(perPage) ? perPage : DEFAULT_PER_PAGE,
  };
}

/** The URL's query string for `state`, defaults left out. */
export function paramsFromState(state: ListState): URLSearchParams {
  const params = new URLSearchParams();
  if (state.q.trim()) params.set("q", state.q.trim());
  for (const row of state.filters) {
    const expression = filterExpression(row);
    if (expression) params.append("filter", expression);
  }
  if (state.segment) params.set("segment", state.segment);
  if (state.sort) params.set("sort", state.sort);
  if (state.page > 1) params.set("page", String(state.page));
  if (state.perPage !== DEFAULT_PER_PAGE) params.set("per_page", String(state.perPage));
  return params;
}

/** `GET …/contacts`'s query for `state` (the same parameters export what the list shows). */
export function apiQuery(state: ListState): Query {
  return {
    q: state.q.trim() || null,
    filter: state.filters.map(filterExpression).filter((e): e is string => e !== null),
    segment: state.segment,
    sort: state.sort,
    page: state.page,
    per_page: state.perPage,
  };
}

/** Clicking a column's header: ascending first, then the other way round. */
export function nextSort(current: string | null, field: string): string {
  return current === field ? `-${field}` : field;
}

export function sortDirection(current: string | null, field: string): "ascending" | "descending" | "none" {
  if (current === field) return "ascending";
  if (current === `-${field}`) return "descending";
  return "none";
}

/** Whether the list is narrowed at all (the empty state says "no match" rather than "none yet"). */
export function isNarrowed(state: ListState): boolean {
  return Boolean(state.q.trim() || state.segment || state.filters.some((row) => filterExpression(row)));
}
