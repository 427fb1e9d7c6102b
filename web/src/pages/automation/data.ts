/**
 * What the designer loads: the catalogue, and the account's lists its pickers offer
 * (agents, teams, channels, tags, segments, templates, SLA policies, canned responses).
 * A list the member may not read is left empty rather than failing the screen.
 */

import { api, type Page } from "../../api/client";
import { useAccount } from "../../lib/account";
import { useResource } from "../../lib/useResource";
import type { Catalogue, Choice, CustomField, OptionLists } from "./catalogue";

export interface Lists extends OptionLists {
  templates: Choice[];
  policies: Choice[];
  canned: { value: string; label: string; body: string }[];
  /** The contact's custom fields, offered as conditions. */
  custom: CustomField[];
}

interface Named {
  id: string;
  name: string;
}

export function useCatalogue() {
  const { url, account } = useAccount();
  return useResource(() => api.get<Catalogue>(url("/automation/fields")), [account.id]);
}

export function useLists() {
  const { url, account } = useAccount();
  return useResource(async (): Promise<Lists> => {
    const quietly = <T,>(load: Promise<T>, empty: T) => load.catch(() => empty);
    const noPage = { items: [], meta: { page: 1, per_page: 100, total: 0, pages: 0 } };
    const [members, teams, channels, tags, segments, templates, policies, canned, custom] = await Promise.all([
      quietly(api.get<Page<{ user_id: string; name: string; email: string }>>(url("/members"), { per_page: 100 }), noPage),
      quietly(api.get<{ items: Named[] }>(url("/teams")), { items: [] }),
      quietly(api.get<{ items: (Named & { type: string })[] }>(url("/channels")), { items: [] }),
      quietly(api.get<Page<Named>>(url("/tags"), { per_page: 100 }), noPage),
      quietly(api.get<Page<Named>>(url("/segments"), { per_page: 100 }), noPage),
      quietly(api.get<Page<Named>>(url("/templates"), { per_page: 100 }), noPage),
      quietly(api.get<{ items: Named[] }>(url("/sla/policies")), { items: [] }),
      quietly(api.get<Page<{ id: string; title: string; body: string; short_code: string }>>(url("/canned-responses"), { per_page: 100 }), noPage),
      quietly(api.get<{ items: CustomField[] }>(url("/custom-fields"), { entity: "contact" }), { items: [] }),
    ]);
    const named = (items: Named[]) => items.map((item) => ({ value: item.id, label: item.name }));
    return {
      members: members.items.map((m) => ({ value: m.user_id, label: `${m.name} (${m.email})` })),
      teams: named(teams.items),
      channels: channels.items.map((c) => ({ value: c.id, label: `${c.name} (${c.type})` })),
      tags: tags.items.map((t) => ({ value: t.name, label: t.name })),
      segments: named(segments.items),
      templates: named(templates.items),
      policies: named(policies.items),
      canned: canned.items.map((c) => ({ value: c.id, label: `${c.title} (/${c.short_code})`, body: c.body })),
      custom: custom.items,
    };
  }, [account.id]);
}
