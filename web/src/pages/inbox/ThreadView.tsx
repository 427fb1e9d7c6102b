/** One conversation: who it is with and its state, the actions, the messages, who is typing,
 * and the composer. */

import { Badge, Box, Button, Group, Paper, Stack, Text, Title, VisuallyHidden } from "@mantine/core";
import { useCallback } from "react";
import { Link } from "react-router-dom";
import { api } from "../../api/client";
import { useCrumbName } from "../../shell/crumbNames";
import { useAccount } from "../../lib/account";
import { Status } from "../../lib/Status";
import { useResource } from "../../lib/useResource";
import { Composer } from "./Composer";
import { STATUS_LABELS } from "./logic";
import { MessageList } from "./MessageList";
import { ThreadActions } from "./ThreadActions";
import type { Agent, Message } from "./types";
import { useThread } from "./useThread";

export function ThreadView({
  conversationId,
  contactName,
  agents,
  me,
  backTo,
  onRead,
  phone,
}: {
  conversationId: string;
  /** The contact's name when the list knows it (else it is fetched). */
  contactName?: string;
  agents: Agent[];
  me: string;
  /** On a phone: where the back button goes. */
  backTo?: string;
  onRead: (id: string) => void;
  /** A phone's narrow screen: the page scrolls, not the messages alone. */
  phone?: boolean;
}) {
  const { url, account, can } = useAccount();
  const thread = useThread(conversationId, { me, onRead });
  const conversation = thread.conversation.data;
  const contactId = conversation?.contact_id;
  const contact = useResource(
    (signal) =>
      contactName || !contactId
        ? Promise.resolve(null)
        : api.get<{ name: string }>(url(`/contacts/${contactId}`), undefined, signal).catch(() => null),
    [account.id, contactId, contactName],
  );
  const name = contactName ?? contact.data?.name ?? "Contact";
  useCrumbName(conversationId, contactName ?? contact.data?.name);
  const onSent = useCallback((message: Message) => thread.addMessages([message]), [thread.addMessages]);
  const assignee = agents.find((agent) => agent.user_id === conversation?.assignee_id);
  const typingNames = thread.typing.map((id) => agents.find((agent) => agent.user_id === id)?.name ?? "A teammate");

  return (
    <Stack gap="sm" h="100%" component="section" aria-label={`Conversation with ${name}`}>
      {backTo && (
        <Button component={Link} to={backTo} variant="subtle" size="xs" w="fit-content" leftSection={<span aria-hidden>←</span>}>
          Back to conversations
        </Button>
      )}
      <Status ready={conversation !== undefined} error={thread.conversation.error} retry={thread.conversation.reload}>
        {conversation && (
          <>
            <Group justify="space-between" wrap="wrap" gap="xs">
              <Box>
                <Title order={2} size="h4">
                  {name}
                </Title>
                {conversation.subject && (
                  <Text size="sm" c="dimmed">
                    {conversation.subject}
                  </Text>
                )}
              </Box>
              <Group gap="xs">
                <Badge variant="light" color={conversation.status === "resolved" ? "green" : "blue"}>
                  <VisuallyHidden>Status: </VisuallyHidden>
                  {STATUS_LABELS[conversation.status]}
                </Badge>
                <Text size="sm">Assignee: {assignee?.name ?? (conversation.assignee_id ? "A teammate" : "Unassigned")}</Text>
              </Group>
            </Group>
            <ThreadActions conversation={conversation} agents={agents} me={me} onChange={thread.conversation.setData} />
          </>
        )}
      </Status>
      <Paper withBorder p="sm" tabIndex={phone ? undefined : 0} style={phone ? undefined : { flex: 1, overflowY: "auto", minHeight: 200 }}>
        <Status ready={thread.page.data !== undefined} error={thread.page.error} retry={thread.page.reload}>
          <MessageList
            messages={thread.page.data?.items ?? []}
            hasMore={thread.page.data?.has_more ?? false}
            older={thread.older}
            loadOlder={() => void thread.loadOlder()}
            contactName={name}
            agents={agents}
            me={me}
          />
        </Status>
      </Paper>
      <Text size="sm" c="dimmed" role="status" aria-live="polite" mih={20}>
        {typingNames.length ? `${typingNames.join(", ")} ${typingNames.length === 1 ? "is" : "are"} typing…` : ""}
      </Text>
      {can("conversations:write") && (
        <Composer
          conversationId={conversationId}
          onSent={onSent}
          disabled={conversation?.status === "closed" ? "The conversation is closed." : undefined}
        />
      )}
    </Stack>
  );
}
