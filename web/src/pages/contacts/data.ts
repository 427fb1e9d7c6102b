/** What several contacts screens load: the account's contact custom fields and members. */

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
