/**
 * Data a screen loads from the API: loading, the error to show, and `reload` (also run when
 * the realtime connection says what was missed cannot be told). A newer load wins over an
 * older one still on its way.
 */

import { useCallback, useEffect, useRef, useState } from "react";
import { RELOAD, useRealtime } from "../realtime/RealtimeContext";

export function useResource<T>(load: (signal: AbortSignal) => Promise<T>, deps: unknown[]) {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(true);
  const generation = useRef(0);
  const stable = useCallback(load, deps);

  const reload = useCallback(async () => {
    const mine = ++generation.current;
    const controller = new AbortController();
    setLoading(true);
    try {
      const loaded = await stable(controller.signal);
      if (mine === generation.current) {
        setData(loaded);
        setError(null);
      }
    } catch (caught) {
      if (mine === generation.current && (caught as Error).name !== "AbortError") setError(caught);
    } finally {
      if (mine === generation.current) setLoading(false);
    }
  }, [stable]);

  useEffect(() => {
    void reload();
  }, [reload]);
  useRealtime(RELOAD, () => void reload());
  return { data, error, loading, reload, setData };
}
