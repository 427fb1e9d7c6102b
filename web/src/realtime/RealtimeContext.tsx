/**
 * One Socket.IO connection per open account, shared by every screen: `useRealtime(event,
 * handler)` hears its pushes. The connection carries the REST API's access token, renews
 * it when the server warns it is expiring, and after any interruption asks for what it
 * missed (see ./feeds); when that cannot be told, screens hear `reload` and fetch again.
 */

import { createContext, useContext, useEffect, useMemo, useRef, useState, type ReactNode } from "react";
import { io, type Socket } from "socket.io-client";
import { refreshSession } from "../api/client";
import * as tokens from "../auth/tokens";
import { FeedPosition, type Envelope, type ResyncAnswer } from "./feeds";

export const RELOAD = "reload";
type Handler = (data: any, push: Envelope) => void;

interface Realtime {
  connected: boolean;
  socket: Socket | null;
  on: (event: string, handler: Handler) => () => void;
}

const RealtimeContext = createContext<Realtime>({ connected: false, socket: null, on: () => () => {} });

export function RealtimeProvider({ accountId, userId, children }: { accountId: string; userId: string; children: ReactNode }) {
  const [socket, setSocket] = useState<Socket | null>(null);
  const [connected, setConnected] = useState(false);
  const handlers = useRef(new Map<string, Set<Handler>>());

  useEffect(() => {
    const position = new FeedPosition();
    const feeds = [`account:${accountId}`, `user:${accountId}:${userId}`];
    const dispatch = (event: string, data: unknown, push: Envelope) =>
      handlers.current.get(event)?.forEach((handler) => handler(data, push));
    const deliver = (push: Envelope) => {
      if (position.accept(push)) dispatch(push.event, push.data, push);
    };
    const connection = io({
      transports: ["websocket"],
      auth: (send) => send({ token: tokens.load()?.accessToken ?? "", account_id: accountId }),
    });
    let first = true;
    const catchUp = () => {
      for (const ask of position.asks(feeds)) {
        connection.emit("resync", ask, (answer: ResyncAnswer) => {
          const { replay, reload } = position.settle(ask.room, answer);
          replay.forEach((push) => dispatch(push.event, push.data, push));
          if (reload) dispatch(RELOAD, {}, { event: RELOAD, seq: 0, epoch: "", room: ask.room, data: {} });
        });
      }
    };
    connection.on("connect", () => {
      setConnected(true);
      if (!first) catchUp();
      first = false;
    });
    connection.on("disconnect", () => setConnected(false));
    connection.on("connect_error", async () => {
      // An expired token is refused: refresh it, and socket.io tries again by itself.
      const session = tokens.load();
      if (session && session.refreshAfter <= Date.now()) await refreshSession().catch(() => null);
    });
    connection.on("feed.reset", catchUp);
    connection.on("auth.expiring", async () => {
      const session = await refreshSession().catch(() => null);
      if (session) connection.emit("auth.refresh", { token: session.accessToken });
    });
    connection.onAny((event: string, push: Envelope) => {
      if (push && typeof push === "object" && "seq" in push && "room" in push) deliver(push);
      else dispatch(event, push, { event, seq: 0, epoch: "", room: "", data: push });
    });
    setSocket(connection);
    return () => {
      connection.removeAllListeners();
      connection.disconnect();
      setSocket(null);
      setConnected(false);
    };
  }, [accountId, userId]);

  const value = useMemo<Realtime>(
    () => ({
      connected,
      socket,
      on: (event, handler) => {
        const set = handlers.current.get(event) ?? new Set();
        set.add(handler);
        handlers.current.set(event, set);
        return () => set.delete(handler);
      },
    }),
    [connected, socket],
  );
  return <RealtimeContext.Provider value={value}>{children}</RealtimeContext.Provider>;
}

export function useRealtimeStatus(): Pick<Realtime, "connected" | "socket"> {
  const { connected, socket } = useContext(RealtimeContext);
  return { connected, socket };
}

/** Hear `events` while the component is mounted (the latest `handler` is always called). */
export function useRealtime(events: string | string[], handler: Handler): void {
  const { on } = useContext(RealtimeContext);
  const latest = useRef(handler);
  latest.current = handler;
  const names = (Array.isArray(events) ? events : [events]).join("\n");
  useEffect(() => {
    const stops = names.split("\n").map((event) => on(event, (data, push) => latest.current(data, push)));
    return () => stops.forEach((stop) => stop());
  }, [on, names]);
}
