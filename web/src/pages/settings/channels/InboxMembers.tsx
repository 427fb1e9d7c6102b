import { MultiSelect, Stack, Text } from "@mantine/core";
import { api } from "../../../api/client";
import { useAccount } from "../../../lib/account";
import { FormError } from "../../../lib/FormError";
import { Status } from "../../../lib/Status";
import { useResource } from "../../../lib/useResource";
import { useSubmit } from "../../../lib/useSubmit";
import type { Member } from "../members/types";
import type { Channel } from "./types";

/** The agents who work a channel's inbox: each change is saved at once. */
export function InboxMembers({ channel, members, manage }: { channel: Channel; members: Member[]; manage: boolean }) {
  const { url } = useAccount();
  const path = url(`/channels/${channel.id}/members`);
  const current = useResource((signal) => api.get<{ user_ids: string[] }>(path, undefined, signal), [path]);
  const change = useSubmit(async (next: string[]) => {
    const before = current.data?.user_ids ?? [];
    for (const id of next.filter((id) => !before.includes(id))) await api.post(path, { user_id: id });
    for (const id of before.filter((id) => !next.includes(id))) await api.delete(`${path}/${id}`);
    await current.reload();
  });
  const known = new Map(members.map((m) => [m.user_id, m]));
  const ids = current.data?.user_ids ?? [];
  const data = [
    ...members.map((m) => ({ value: m.user_id, label: `${m.name} (${m.email})` })),
    ...ids.filter((id) => !known.has(id)).map((id) => ({ value: id, label: "A former member" })),
  ];
  return (
    <Status ready={current.data !== undefined} error={current.error} retry={current.reload}>
      <Stack>
        <Text size="sm" c="dimmed">
          Conversations of this channel go to these agents' inboxes (and to the teams attached to it).
        </Text>
        <FormError error={change.error} />
        <MultiSelect
          label="Agents in this inbox"
          data={data}
          value={ids}
          onChange={(next) => void change.run(next)}
          searchable
          disabled={!manage || change.busy}
          nothingFoundMessage="No such member"
          data-autofocus
        />
      </Stack>
    </Status>
  );
}
