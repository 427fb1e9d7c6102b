import { ActionIcon, Button, Fieldset, Group, PasswordInput, Select, Stack, Switch, Text, TextInput } from "@mantine/core";
import { useState, type FormEvent } from "react";
import { api } from "../../../api/client";
import { useAccount } from "../../../lib/account";
import { FormError } from "../../../lib/FormError";
import { useSubmit } from "../../../lib/useSubmit";
import { configBody, toRows, type ConfigRow } from "./config";
import { CHANNEL_TYPES, type Channel } from "./types";
import { FormActions } from "../ui";

/** Create a channel, or change one's name, status and settings. */
export function ChannelForm({ channel, onSaved, onCancel }: { channel: Channel | null; onSaved: (c: Channel) => void; onCancel: () => void }) {
  const { url } = useAccount();
  const [type, setType] = useState<string | null>(channel?.type ?? "email");
  const [name, setName] = useState(channel?.name ?? "");
  const [enabled, setEnabled] = useState(channel?.enabled ?? true);
  const [rows, setRows] = useState<ConfigRow[]>(() => toRows(channel?.config));
  const save = useSubmit(async () => {
    const config = configBody(rows, channel?.config ?? null);
    onSaved(
      channel
        ? await api.patch<Channel>(url(`/channels/${channel.id}`), { name, enabled, config })
        : await api.post<Channel>(url("/channels"), { type, name, enabled, config }),
    );
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    void save.run();
  };
  const setRow = (index: number, patch: Partial<ConfigRow>) => setRows(rows.map((r, n) => (n === index ? { ...r, ...patch } : r)));
  return (
    <form onSubmit={submit} noValidate>
      <Stack>
        <FormError error={save.error} />
        <Select
          label="Type"
          data={CHANNEL_TYPES}
          value={type}
          onChange={setType}
          allowDeselect={false}
          disabled={channel !== null}
          description={channel ? "A channel's type cannot change" : undefined}
          error={save.error?.field("type")}
        />
        <TextInput label="Name" required value={name} onChange={(e) => setName(e.currentTarget.value)} error={save.error?.field("name")} data-autofocus />
        <Switch label="Receiving and sending" checked={enabled} onChange={(e) => setEnabled(e.currentTarget.checked)} />
        <Fieldset legend="Settings" variant="filled">
          <Stack gap="xs">
            <Text size="xs" c="dimmed">
              Keys and values for this kind of channel. Secret values are never shown again: leave them blank to keep them.
            </Text>
            {rows.map((row, index) => (
              <Group key={index} gap="xs" align="flex-start" wrap="nowrap">
                <TextInput label={`Setting ${index + 1} key`} value={row.key} onChange={(e) => setRow(index, { key: e.currentTarget.value })} disabled={row.secretSet} style={{ flex: 1 }} />
                {row.secretSet ? (
                  <PasswordInput
                    label={`Setting ${index + 1} new value`}
                    placeholder="(set; unchanged)"
                    value={row.value}
                    onChange={(e) => setRow(index, { value: e.currentTarget.value })}
                    style={{ flex: 1 }}
                  />
                ) : (
                  <TextInput
                    label={`Setting ${index + 1} value`}
                    value={row.value}
                    onChange={(e) => setRow(index, { value: e.currentTarget.value })}
                    error={save.error?.field(`config.${row.key}`)}
                    style={{ flex: 1 }}
                  />
                )}
                <ActionIcon mt={26} variant="subtle" color="red" size="lg" aria-label={`Remove setting ${row.key || index + 1}`} onClick={() => setRows(rows.filter((_, n) => n !== index))}>
                  ×
                </ActionIcon>
              </Group>
            ))}
            {save.error?.field("config") && (
              <Text c="red" size="sm" role="alert">
                {save.error.field("config")}
              </Text>
            )}
            <Group>
              <Button variant="subtle" size="compact-sm" onClick={() => setRows([...rows, { key: "", value: "", secretSet: false }])}>
                Add a setting
              </Button>
            </Group>
          </Stack>
        </Fieldset>
        <FormActions onCancel={onCancel} busy={save.busy} save="Save channel" />
      </Stack>
    </form>
  );
}
