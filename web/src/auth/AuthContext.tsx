/**
 * Who is signed in, and in which accounts: the session's tokens (see ./tokens) and the
 * user's context (`GET /v1/me/context`), loaded once and again on demand. Signing out
 * in one tab signs out every tab.
 */

import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState, type ReactNode } from "react";
import { api } from "../api/client";
import type { AccountAccess, Context } from "../api/types";
import * as tokens from "./tokens";

type Status = "loading" | "signed-out" | "signed-in";

interface Auth {
  status: Status;
  context: Context | null;
  /** Store a token pair (sign-in, sign-up, an accepted invitation) and load the context. */
  signIn: (pair: tokens.TokenPair) => Promise<Context>;
  signOut: () => Promise<void>;
  reload: () => Promise<Context | null>;
  account: (id: string | undefined) => AccountAccess | undefined;
}

const AuthContext = createContext<Auth | null>(null);

export function AuthProvider({ children }: { children: ReactNode }) {
  const [status, setStatus] = useState<Status>(() => (tokens.load() ? "loading" : "signed-out"));
  const [context, setContext] = useState<Context | null>(null);

  const generation = useRef(0);
  const reload = useCallback(async () => {
    const mine = ++generation.current; // a later load wins over an earlier one still on its way
    if (!tokens.load()) {
      setContext(null);
      setStatus("signed-out");
      return null;
    }
    try {
      const loaded = await api.get<Context>("/v1/me/context");
      if (mine !== generation.current) return loaded;
      setContext(loaded);
      setStatus("signed-in");
      return loaded;
    } catch {
      if (mine === generation.current && !tokens.load()) {
        setContext(null);
        setStatus("signed-out");
      }
      return null;
    }
  }, []);

  useEffect(() => {
    void reload();
    return tokens.subscribe((session) => {
      if (!session) {
        setContext(null);
        setStatus("signed-out");
      }
    });
  }, [reload]);

  const signIn = useCallback(async (pair: tokens.TokenPair) => {
    tokens.save(tokens.fromPair(pair));
    generation.current++;
    const loaded = await api.get<Context>("/v1/me/context");
    setContext(loaded);
    setStatus("signed-in");
    return loaded;
  }, []);

  const signOut = useCallback(async () => {
    try {
      await api.post("/v1/auth/logout");
    } catch {
      // Signed out here whatever the server says: the tokens are dropped below.
    }
    tokens.save(null);
  }, []);

  const value = useMemo<Auth>(
    () => ({
      status,
      context,
      signIn,
      signOut,
      reload,
      account: (id) => context?.accounts.find((a) => a.id === id),
    }),
    [status, context, signIn, signOut, reload],
  );
  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}

export function useAuth(): Auth {
  const auth = useContext(AuthContext);
  if (!auth) throw new Error("useAuth outside <AuthProvider>");
  return auth;
}
