/** Channels: where conversations come from; each one's settings and its inbox's agents. */

import { Badge, Button, Group, Table, Text } from "@mantine/core";
import { useState } from "react";
import { api, type Page } from "../../../api/client";
import { useAccount } from "../../../lib/account";
import { Status } from "../../../lib/Status";
import { useResource } from "../../../lib/useResource";
import type { Member } from "../members/types";
import { ConfirmButton, FormModal, PageTitle, saved } from "../ui";
import { ChannelForm } from "./ChannelForm";
import { InboxMembers } from "./InboxMembers";
import { typeLabel, type Channel } from "./types";

export function Channels() {
  const { account, url, can } = useAccount();
  const channels = useResource((signal) => api.get<{ items: Channel[] }>(url("/channels"), undefined, signal), [account.id]);
  const members = useResource(
    (signal) => (can("members:read") ? api.get<Page<Member>>(url("/members"), { per_page: 100 }, signal) : Promise.resolve(null)),
    [account.id],
  );
  const [editing, setEditing] = useState<Channel | "new" | null>(null);
  const [staffing, setStaffing] = useState<Channel | null>(null);
  const manage = can("channels:manage");
  return (
    <>
      <PageTitle title="Channels" description="Email addresses, phone numbers, the chat widget and webhooks that bring conversations in." />
      <Status ready={channels.data !== undefined} error={channels.error} retry={channels.reload}>
        {manage && (
          <Group mb="md">
            <Button onClick={() => setEditing("new")}>New channel</Button>
          </Group>
        )}
        {channels.data?.items.length === 0 ? (
          <Text c="dimmed">No channels yet.</Text>
        ) : (
          <Table.ScrollContainer minWidth={520}>
            <Table verticalSpacing="sm">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Name</Table.Th>
                  <Table.Th>Type</Table.Th>
                  <Table.Th>Status</Table.Th>
                  <Table.Th>Actions</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {channels.data?.items.map((channel) => (
                  <Table.Tr key={channel.id}>
                    <Table.Td>{channel.name}</Table.Td>
                    <Table.Td>{typeLabel(channel.type)}</Table.Td>
                    <Table.Td>
                      <Badge variant={channel.enabled ? "light" : "outline"} color={channel.enabled ? "blue" : "dark.6"}>
                        {channel.enabled ? "On" : "Off"}
                      </Badge>
                    </Table.Td>
                    <Table.Td>
                      <Group gap="xs" wrap="nowrap">
                        <Button size="xs" variant="light" onClick={() => setStaffing(channel)} aria-label={`Inbox members of ${channel.name}`}>
                          Inbox members
                        </Button>
                        {manage && (
                          <>
                            <Button size="xs" variant="light" onClick={() => setEditing(channel)} aria-label={`Edit ${channel.name}`}>
                              Edit
                            </Button>
                            <ConfirmButton
                              label="Delete"
                              ariaLabel={`Delete ${channel.name}`}
                              title={`Delete the channel ${channel.name}?`}
                              confirmLabel="Delete channel"
                              onConfirm={async () => {
                                await api.delete(url(`/channels/${channel.id}`));
                                saved(`The channel ${channel.name} is deleted.`);
                                await channels.reload();
                              }}
                            >
                              Only a channel without conversations can be deleted; turn it off to keep its history.
                            </ConfirmButton>
                          </>
                        )}
                      </Group>
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        )}
      </Status>
      <FormModal opened={editing !== null} onClose={() => setEditing(null)} title={editing === "new" ? "New channel" : `Edit ${editing?.name ?? ""}`}>
        {editing !== null && (
          <ChannelForm
            channel={editing === "new" ? null : editing}
            onSaved={(channel) => {
              saved(`The channel ${channel.name} is saved.`);
              setEditing(null);
              void channels.reload();
            }}
            onCancel={() => setEditing(null)}
          />
        )}
      </FormModal>
      <FormModal opened={staffing !== null} onClose={() => setStaffing(null)} title={`Inbox members of ${staffing?.name ?? ""}`}>
        {staffing && <InboxMembers channel={staffing} members={members.data?.items ?? []} manage={manage} />}
      </FormModal>
    </>
  );
}
