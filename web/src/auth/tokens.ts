/**
 * The signed-in session's tokens, kept in localStorage so every tab shares them: the
 * access token for requests, the single-use refresh token to get the next pair.
 * A tab that signs out (or whose refresh fails) clears them, and the others follow.
 */

export interface TokenPair {
  access_token: string;
  refresh_token: string;
  expires_in: number;
  session_id?: string;
}

export interface StoredSession {
  accessToken: string;
  refreshToken: string;
  /** Epoch milliseconds after which the access token is refreshed before use. */
  refreshAfter: number;
  sessionId?: string;
}

const KEY = "turumba.session";
type Listener = (session: StoredSession | null) => void;
const listeners = new Set<Listener>();

export function fromPair(pair: TokenPair, now = Date.now()): StoredSession {
  // Refresh a little early, so a request never leaves with a token about to expire.
  const margin = Math.min(60, pair.expires_in / 5);
  return {
    accessToken: pair.access_token,
    refreshToken: pair.refresh_token,
    refreshAfter: now + (pair.expires_in - margin) * 1000,
    sessionId: pair.session_id,
  };
}

export function load(): StoredSession | null {
  try {
    const raw = localStorage.getItem(KEY);
    return raw ? (JSON.parse(raw) as StoredSession) : null;
  } catch {
    return null;
  }
}

export function save(session: StoredSession | null): void {
  if (session) localStorage.setItem(KEY, JSON.stringify(session));
  else localStorage.removeItem(KEY);
  listeners.forEach((listener) => listener(session));
}

export function subscribe(listener: Listener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

if (typeof window !== "undefined") {
  window.addEventListener("storage", (event) => {
    if (event.key === KEY) listeners.forEach((listener) => listener(load()));
  });
}
