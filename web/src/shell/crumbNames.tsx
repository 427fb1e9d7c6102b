/**
 * What a screen calls the record in its path, for the breadcrumbs: the contact's name
 * rather than "Details". A screen names its record with `useCrumbName(id, name)`.
 */

import { createContext, useContext, useEffect, useState, type ReactNode } from "react";

type Names = Record<string, string>;
const CrumbNames = createContext<{ names: Names; set: (id: string, name: string | undefined) => void }>({
  names: {},
  set: () => {},
});

export function CrumbNamesProvider({ children }: { children: ReactNode }) {
  const [names, setNames] = useState<Names>({});
  const set = (id: string, name: string | undefined) =>
    setNames((old) => {
      if (old[id] === name) return old;
      const next = { ...old };
      if (name) next[id] = name;
      else delete next[id];
      return next;
    });
  return <CrumbNames.Provider value={{ names, set }}>{children}</CrumbNames.Provider>;
}

export function useCrumbNames(): Names {
  return useContext(CrumbNames).names;
}

/** Name the record `id` in the breadcrumbs while the screen shows it. */
export function useCrumbName(id: string | undefined, name: string | undefined): void {
  const { set } = useContext(CrumbNames);
  useEffect(() => {
    if (!id) return;
    set(id, name);
    return () => set(id, undefined);
    // eslint-disable-next-line react-hooks/exhaustive-deps -- `set` is stable in effect
  }, [id, name]);
}
