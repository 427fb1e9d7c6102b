/** What several contacts screens load: the account's contact custom fields and members. */

import { useEffect, useState } from "react";
import { api, type Page } from "../../api/client";
import { useAccount } from "../../lib/account";
import { useResource } from "../../lib/useResource";
import { useRealtime } from "../../realtime/RealtimeContext";
import type { CustomField, Member } from "./types";

/** The pushes after which a contact list or a contact may read differently. */
export const CONTACT_EVENTS = ["contact.created", "contact.updated", "contact.deleted", "contact.merged", "contact.restored"];

/** `GET …/custom-fields?entity=contact`, in display order. */
export function useCustomFields() {
  const { account, url } = useAccount();
  return useResource(
    (signal) => api.get<{ items: CustomField[] }>(url("/custom-fields"), { entity: "contact" }, signal).then((answer) => answer.items),
    [account.id],
  );
}

/** The account's members (to name who did what), or none without `members:read`. */
export function useMembers() {
  const { account, url, can } = useAccount();
  const allowed = can("members:read");
  return useResource(
    (signal) =>
      allowed
        ? api.get<Page<Member>>(url("/members"), { per_page: 100 }, signal).then((answer) => answer.items)
        : Promise.resolve([] as Member[]),
    [account.id, allowed],
  );
}

/** Refresh on every contact push (and after a missed stretch, which useResource hears). */
export function useContactPushes(handler: (event: string, data: any) => void) {
  useRealtime(CONTACT_EVENTS, (data, push) => handler(push.event, data));
}

export function formatDateTime(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" }).format(date);
}

/**
 * The tags of each contact on a page: the list does not carry them, so they are read per
 * contact (`GET …/contacts/<id>/tags`), a few at a time, after the page shows.
 */
export function useRowTags(ids: string[]) {
  const { url } = useAccount();
  const key = ids.join(",");
  const [tags, setTags] = useState<Record<string, string[]>>({});
  const [version, setVersion] = useState(0);
  useEffect(() => {
    const controller = new AbortController();
    const queue = key ? key.split(",") : [];
    const found: Record<string, string[]> = {};
    const worker = async () => {
      while (queue.length && !controller.signal.aborted) {
        const id = queue.shift()!;
        try {
          found[id] = (await api.get<{ tags: string[] }>(url(`/contacts/${id}/tags`), undefined, controller.signal)).tags;
        } catch {
          // a contact deleted meanwhile has no tags to show; the list reloads on its push
        }
      }
    };
    void Promise.all(Array.from({ length: Math.min(6, queue.length) }, worker)).then(() => {
      if (!controller.signal.aborted) setTags((old) => ({ ...old, ...found }));
    });
    return () => controller.abort();
    // `url` is a new function each render but the same prefix for the account.
  }, [key, version]);
  return { tags, reload: () => setVersion((v) => v + 1) };
}
