/** The contact's conversations, newest activity first, each opening in the inbox. */

import { Anchor, Badge, Group, Paper, Stack, Text, Title } from "@mantine/core";
import { Link } from "react-router-dom";
import { api, type Page } from "../../api/client";
import { useAccount } from "../../lib/account";
import { Status } from "../../lib/Status";
import { useResource } from "../../lib/useResource";
import { useRealtime } from "../../realtime/RealtimeContext";
import { formatDateTime } from "./data";
import type { ConversationSummary } from "./types";

const CHANGES = ["conversation.created", "conversation.updated", "conversation.status_changed", "conversation.merged"];

export function ContactConversations({ contactId }: { contactId: string }) {
  const { can } = useAccount();
  if (!can("conversations:read")) return null;
  return <Conversations contactId={contactId} />;
}

function Conversations({ contactId }: { contactId: string }) {
  const { account, url, base } = useAccount();
  const list = useResource(
    (signal) =>
      api.get<Page<ConversationSummary>>(url("/conversations"), { filter: `contact_id:eq:${contactId}`, sort: "-last_activity_at", per_page: 20 }, signal),
    [account.id, contactId],
  );
  useRealtime(CHANGES, (data) => {
    if (data?.conversation?.contact_id === contactId) void list.reload();
  });
  const page = list.data;
  return (
    <Paper withBorder p="md" component="section" aria-labelledby="contact-conversations">
      <Title order={2} size="h4" id="contact-conversations" mb="sm">
        Conversations
      </Title>
      <Status ready={page !== undefined} error={list.error} retry={list.reload}>
        {page?.items.length === 0 && (
          <Text size="sm" c="dimmed">
            No conversations yet.
          </Text>
        )}
        <Stack gap="xs" component="ul" style={{ listStyle: "none", padding: 0, margin: 0 }}>
          {page?.items.map((conversation) => (
            <li key={conversation.id}>
              <Group justify="space-between" gap="xs" wrap="nowrap">
                <Anchor component={Link} to={`${base}/inbox/${conversation.id}`} size="sm" style={{ overflowWrap: "anywhere" }}>
                  {conversation.subject || "(no subject)"}
                </Anchor>
                <Group gap={6} wrap="nowrap">
                  <Badge variant="light" color={conversation.status === "open" ? "blue" : "gray"} tt="none">
                    {conversation.status}
                  </Badge>
                  <Text size="xs" c="dimmed">
                    <time dateTime={conversation.last_activity_at}>{formatDateTime(conversation.last_activity_at)}</time>
                  </Text>
                </Group>
              </Group>
            </li>
          ))}
        </Stack>
        {page && page.meta.total > page.items.length && (
          <Text size="xs" c="dimmed" mt="xs">
            The latest {page.items.length} of {page.meta.total}.
          </Text>
        )}
      </Status>
    </Paper>
  );
}
