/**
 * Every call the console makes to the REST API goes through {@link api}: JSON in and out,
 * the bearer token attached, one refresh of an expired token (shared by every request and
 * every tab that needs it at once: the refresh token works only once), and errors thrown
 * as {@link ApiError} with the API's own code, message and per-field errors.
 */

import * as tokens from "../auth/tokens";
import { ApiError, type ErrorBody } from "./errors";

export type Query = Record<string, string | number | boolean | undefined | null | (string | number)[]>;

export interface RequestOptions {
  body?: unknown;
  query?: Query;
  /** Send without the bearer token (sign-in, sign-up, password reset). */
  anonymous?: boolean;
  signal?: AbortSignal;
}

/** `path?query`, repeating list values (`filter=a&filter=b`) and leaving out empty ones. */
export function withQuery(path: string, query?: Query): string {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) {
    if (value === undefined || value === null || value === "") continue;
    for (const item of Array.isArray(value) ? value : [value]) params.append(name, String(item));
  }
  const text = params.toString();
  return text ? `${path}${path.includes("?") ? "&" : "?"}${text}` : path;
}

let refreshing: Promise<tokens.StoredSession | null> | null = null;

/** A fresh token pair for the stored session, or null (signed out) when it cannot be had. */
export function refreshSession(): Promise<tokens.StoredSession | null> {
  refreshing ??= withLock(async () => {
    const current = tokens.load();
    if (!current) return null;
    if (current.refreshAfter > Date.now()) return current; // another tab refreshed meanwhile
    const answer = await fetch("/v1/auth/refresh", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ refresh_token: current.refreshToken }),
    }).catch(() => null);
    if (answer === null) throw new ApiError(0, null, "network");
    if (!answer.ok) {
      tokens.save(null);
      return null;
    }
    const session = tokens.fromPair(await answer.json());
    tokens.save(session);
    return session;
  }).finally(() => {
    refreshing = null;
  });
  return refreshing;
}

async function withLock<T>(work: () => Promise<T>): Promise<T> {
  const locks = typeof navigator !== "undefined" ? navigator.locks : undefined;
  return locks ? locks.request("turumba.refresh", work) : work();
}

async function accessToken(): Promise<string | null> {
  const session = tokens.load();
  if (!session) return null;
  if (session.refreshAfter > Date.now()) return session.accessToken;
  return (await refreshSession())?.accessToken ?? null;
}

async function send(method: string, path: string, options: RequestOptions, token: string | null) {
  const headers: Record<string, string> = { Accept: "application/json" };
  if (options.body !== undefined) headers["Content-Type"] = "application/json";
  if (token) headers.Authorization = `Bearer ${token}`;
  try {
    return await fetch(withQuery(path, options.query), {
      method,
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      signal: options.signal,
    });
  } catch (error) {
    if ((error as Error).name === "AbortError") throw error;
    throw new ApiError(0, null, "The server cannot be reached.");
  }
}

export async function request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
  let token = options.anonymous ? null : await accessToken();
  let answer = await send(method, path, options, token);
  if (answer.status === 401 && token) {
    // Expired early (a clock skew, a revoked session): one refresh, one retry.
    token = (await refreshSession())?.accessToken ?? null;
    if (token) answer = await send(method, path, options, token);
  }
  if (answer.status === 204) return undefined as T;
  const text = await answer.text();
  let data: unknown = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!answer.ok) {
    const body = data && typeof data === "object" && "code" in data ? (data as ErrorBody) : null;
    throw new ApiError(answer.status, body, `The server answered ${answer.status}.`);
  }
  return data as T;
}

export const api = {
  get: <T>(path: string, query?: Query, signal?: AbortSignal) => request<T>("GET", path, { query, signal }),
  post: <T>(path: string, body?: unknown, options: RequestOptions = {}) =>
    request<T>("POST", path, { ...options, body }),
  put: <T>(path: string, body?: unknown) => request<T>("PUT", path, { body }),
  patch: <T>(path: string, body?: unknown) => request<T>("PATCH", path, { body }),
  delete: <T = void>(path: string, body?: unknown) => request<T>("DELETE", path, { body }),
};

export interface Page<T> {
  items: T[];
  meta: { page: number; per_page: number; total: number; pages: number };
}
