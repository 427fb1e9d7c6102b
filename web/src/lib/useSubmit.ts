/**
 * A form's submission: busy while it runs, and the API's error kept so the form shows its
 * message above and each field's messages next to the field (`error?.field("email")`).
 */

import { useCallback, useState } from "react";
import { ApiError } from "../api/errors";

export function useSubmit<A extends unknown[], T>(action: (...args: A) => Promise<T>) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const run = useCallback(
    async (...args: A): Promise<T | undefined> => {
      setBusy(true);
      setError(null);
      try {
        return await action(...args);
      } catch (caught) {
        setError(caught instanceof ApiError ? caught : new ApiError(-1, null, (caught as Error).message));
        return undefined;
      } finally {
        setBusy(false);
      }
    },
    [action],
  );
  return { run, busy, error, setError };
}
