/** The thread's messages, oldest first: who wrote each and when, private notes set apart,
 * and how far an outbound message got. */

import { Alert, Badge, Box, Button, Group, Paper, Stack, Text } from "@mantine/core";
import { useEffect, useRef } from "react";
import { describe } from "../../api/errors";
import { deliveryLabel, fullTime, senderName } from "./logic";
import type { Agent, Message } from "./types";

export function MessageList({
  messages,
  hasMore,
  older,
  loadOlder,
  contactName,
  agents,
  me,
}: {
  messages: Message[];
  hasMore: boolean;
  older: { busy: boolean; error: unknown };
  loadOlder: () => void;
  contactName: string;
  agents: Agent[];
  me: string;
}) {
  const end = useRef<HTMLLIElement>(null);
  const newest = messages[messages.length - 1]?.id;
  // Follow the newest message as it comes (not when older ones are added above).
  useEffect(() => {
    end.current?.scrollIntoView?.({ block: "end" });
  }, [newest]);

  return (
    <Stack gap="sm" component="ol" aria-label="Messages" style={{ listStyle: "none", padding: 0, margin: 0 }}>
      {hasMore && (
        <Box component="li" ta="center">
          <Button variant="subtle" size="xs" onClick={loadOlder} loading={older.busy}>
            Load older messages
          </Button>
          {older.error ? (
            <Alert color="red" role="alert" mt="xs">
              {describe(older.error)}
            </Alert>
          ) : null}
        </Box>
      )}
      {messages.length === 0 && (
        <Text component="li" c="dimmed" ta="center">
          No messages yet.
        </Text>
      )}
      {messages.map((message) => (
        <MessageItem key={message.id} message={message} sender={senderName(message, { contactName, agents, me })} />
      ))}
      <li ref={end} aria-hidden="true" />
    </Stack>
  );
}

function MessageItem({ message, sender }: { message: Message; sender: string }) {
  const inbound = message.direction === "inbound";
  const delivery = deliveryLabel(message);
  const background = message.private ? "yellow.0" : inbound ? "gray.0" : "blue.0";
  return (
    <Box component="li" style={{ display: "flex", justifyContent: inbound ? "flex-start" : "flex-end" }}>
      <Paper
        withBorder
        p="sm"
        radius="md"
        bg={background}
        maw="85%"
        style={message.private ? { borderColor: "var(--mantine-color-yellow-6)", borderStyle: "dashed" } : undefined}
      >
        <Group gap="xs" justify="space-between" wrap="wrap">
          <Text size="sm" fw={600}>
            {sender}
          </Text>
          {message.private && (
            <Badge color="dark" variant="outline" size="sm">
              Private note
            </Badge>
          )}
        </Group>
        <Text size="sm" style={{ whiteSpace: "pre-wrap", overflowWrap: "anywhere" }} mt={4}>
          {message.body}
        </Text>
        <Group gap="xs" mt={4} justify="flex-end">
          <Text size="xs" c="dimmed" component="time" dateTime={message.created_at}>
            {fullTime(message.created_at)}
          </Text>
          {delivery && (
            <Text size="xs" c={message.delivery_status === "failed" ? "red.8" : "dimmed"}>
              · {delivery}
            </Text>
          )}
        </Group>
      </Paper>
    </Box>
  );
}
