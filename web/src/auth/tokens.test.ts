import { beforeEach, describe, expect, it } from "vitest";
import { fromPair, load, save, subscribe } from "./tokens";

describe("tokens", () => {
  beforeEach(() => localStorage.clear());

  it("refreshes a minute before expiry, or a fifth of a short lifetime", () => {
    const now = 1_000_000;
    expect(fromPair({ access_token: "a", refresh_token: "r", expires_in: 900 }, now).refreshAfter).toBe(now + 840_000);
    expect(fromPair({ access_token: "a", refresh_token: "r", expires_in: 10 }, now).refreshAfter).toBe(now + 8_000);
  });

  it("keeps the session for every tab and tells listeners when it goes", () => {
    const heard: unknown[] = [];
    const stop = subscribe((session) => heard.push(session));
    const session = fromPair({ access_token: "a", refresh_token: "r", expires_in: 900, session_id: "s" });
    save(session);
    expect(load()).toEqual(session);
    save(null);
    expect(load()).toBeNull();
    expect(heard).toEqual([session, null]);
    stop();
  });

  it("reads a corrupt store as signed out", () => {
    localStorage.setItem("turumba.session", "{not json");
    expect(load()).toBeNull();
  });
});
