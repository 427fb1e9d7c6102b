/**
 * What an agent does to the open conversation: assign it (to themselves or a teammate),
 * move it along its lifecycle (only the moves helpdesk/states.py allows), snooze it until
 * a chosen time, and tag it. Each answer from the API replaces the conversation shown;
 * a refusal is shown above the controls.
 */

import { Button, Group, Popover, Select, Stack, TagsInput, TextInput } from "@mantine/core";
import { useState } from "react";
import { api, type Page } from "../../api/client";
import { FormError } from "../../lib/FormError";
import { useAccount } from "../../lib/account";
import { useResource } from "../../lib/useResource";
import { useSubmit } from "../../lib/useSubmit";
import { canSnooze, localToIso, statusActions } from "./logic";
import type { Agent, Conversation, ConversationStatus } from "./types";

export function ThreadActions({
  conversation,
  agents,
  me,
  onChange,
}: {
  conversation: Conversation;
  agents: Agent[];
  me: string;
  onChange: (conversation: Conversation) => void;
}) {
  const { url, can, account } = useAccount();
  const path = `/conversations/${conversation.id}`;
  const writable = can("conversations:write");

  const action = useSubmit(async (work: () => Promise<Conversation | void>) => {
    const changed = await work();
    if (changed) onChange(changed);
  });
  const assign = (assigneeId: string | null) =>
    action.run(() => api.post<Conversation>(url(`${path}/assign`), { assignee_id: assigneeId }));
  const move = (status: ConversationStatus, snoozedUntil?: string | null) =>
    action.run(() =>
      api.post<Conversation>(url(`${path}/status`), snoozedUntil === undefined ? { status } : { status, snoozed_until: snoozedUntil }),
    );
  const retag = (names: string[]) =>
    action.run(async () => {
      const added = names.filter((name) => !conversation.tags.includes(name));
      const removed = conversation.tags.filter((name) => !names.includes(name));
      let latest: Conversation | undefined;
      if (added.length) latest = await api.post<Conversation>(url(`${path}/tags`), { tags: added });
      for (const name of removed) await api.delete(url(`${path}/tags/${encodeURIComponent(name)}`));
      return removed.length ? api.get<Conversation>(url(path)) : latest;
    });

  const vocabulary = useResource(
    (signal) => api.get<Page<{ name: string }>>(url("/tags"), { per_page: 100 }, signal).catch(() => null),
    [account.id],
  );

  return (
    <Stack gap="xs">
      <FormError error={action.error} />
      <Group gap="xs" wrap="wrap" align="flex-end">
        {can("conversations:assign") && (
          <>
            {conversation.assignee_id !== me && (
              <Button size="xs" variant="light" onClick={() => void assign(me)} disabled={action.busy}>
                Assign to me
              </Button>
            )}
            <Select
              size="xs"
              label="Assignee"
              w={180}
              data={[{ value: "", label: "Unassigned" }, ...agents.map((agent) => ({ value: agent.user_id, label: agent.name }))]}
              value={conversation.assignee_id ?? ""}
              onChange={(value) => value !== null && value !== (conversation.assignee_id ?? "") && void assign(value || null)}
              allowDeselect={false}
              disabled={action.busy}
              error={action.error?.field("assignee_id")}
            />
          </>
        )}
        {writable &&
          statusActions(conversation).map((choice) => (
            <Button
              key={choice.label}
              size="xs"
              variant={choice.status === "resolved" ? "filled" : "default"}
              onClick={() => void move(choice.status)}
              disabled={action.busy}
            >
              {choice.label}
            </Button>
          ))}
        {writable && canSnooze(conversation.status) && <Snooze onSnooze={(until) => void move("snoozed", until)} busy={action.busy} />}
      </Group>
      {writable && (
        <TagsInput
          size="xs"
          label="Tags"
          placeholder="Add a tag and press Enter"
          value={conversation.tags}
          data={(vocabulary.data?.items ?? []).map((tag) => tag.name)}
          onChange={(names) => void retag(names)}
          disabled={action.busy}
          error={action.error?.field("tags")}
          clearable={false}
        />
      )}
    </Stack>
  );
}

function Snooze({ onSnooze, busy }: { onSnooze: (until: string | null) => void; busy: boolean }) {
  const [opened, setOpened] = useState(false);
  const [until, setUntil] = useState("");
  const [problem, setProblem] = useState<string | null>(null);
  const submit = () => {
    const iso = localToIso(until);
    if (!iso || Date.parse(iso) <= Date.now()) {
      setProblem("Choose a time in the future.");
      return;
    }
    setOpened(false);
    onSnooze(iso);
  };
  return (
    <Popover opened={opened} onChange={setOpened} trapFocus position="bottom-end" withinPortal>
      <Popover.Target>
        <Button size="xs" variant="default" onClick={() => setOpened((o) => !o)} disabled={busy} aria-expanded={opened}>
          Snooze
        </Button>
      </Popover.Target>
      <Popover.Dropdown>
        <Stack gap="xs" component="form" onSubmit={(event) => { event.preventDefault(); submit(); }} aria-label="Snooze">
          <TextInput
            type="datetime-local"
            label="Snooze until"
            value={until}
            onChange={(event) => {
              setUntil(event.currentTarget.value);
              setProblem(null);
            }}
            error={problem}
          />
          <Group gap="xs">
            <Button size="xs" type="submit">
              Snooze until then
            </Button>
            <Button
              size="xs"
              variant="default"
              onClick={() => {
                setOpened(false);
                onSnooze(null);
              }}
            >
              Until the next message
            </Button>
          </Group>
        </Stack>
      </Popover.Dropdown>
    </Popover>
  );
}
