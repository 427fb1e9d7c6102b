/**
 * "Test": a dry run of the rule as it stands in the editor (saved or not) against one of
 * the account's conversations as it is now: what each condition evaluated to, and the
 * actions that would run. Nothing changes.
 */

import { Badge, Box, Button, Card, Group, List, Select, Stack, Text, Title } from "@mantine/core";
import { useMemo, useState } from "react";
import { api, type Page } from "../../api/client";
import { useAccount } from "../../lib/account";
import { FormError } from "../../lib/FormError";
import { useResource } from "../../lib/useResource";
import { useSubmit } from "../../lib/useSubmit";
import type { Catalogue } from "./catalogue";
import type { Lists } from "./data";
import { actionLabel, depthOf, describeBranch, labelsOf, PARAM_LABELS, type RuleDraft, type Tried } from "./rules";

interface ConversationRow {
  id: string;
  subject: string | null;
  status: string;
  priority: string;
  created_at: string;
}

interface Props {
  catalogue: Catalogue;
  lists: Lists;
  definition: () => RuleDraft | null;
}

export function TestPanel({ catalogue, lists, definition }: Props) {
  const { url, account } = useAccount();
  const [conversationId, setConversationId] = useState<string | null>(null);
  const [event, setEvent] = useState<string | null>(null);
  const [tried, setTried] = useState<Tried | null>(null);
  const conversations = useResource(
    () => api.get<Page<ConversationRow>>(url("/conversations"), { per_page: 100, sort: "-last_activity_at" }),
    [account.id],
  );
  const labels = useMemo(
    () => labelsOf(catalogue, [lists.members ?? [], lists.teams ?? [], lists.channels ?? [], lists.segments ?? []]),
    [catalogue, lists],
  );
  const run = useSubmit(async () => {
    const rule = definition();
    if (!rule || !conversationId) return;
    setTried(null);
    setTried(
      await api.post<Tried>(url("/automation/rules/test"), {
        rule,
        conversation_id: conversationId,
        ...(event ? { event } : {}),
      }),
    );
  });
  const options = (conversations.data?.items ?? []).map((c) => ({
    value: c.id,
    label: `${c.subject || "(no subject)"} · ${c.status} · ${c.priority} · ${new Date(c.created_at).toLocaleString()} · ${c.id.slice(0, 8)}`,
  }));
  return (
    <Card withBorder component="section" aria-labelledby="rule-test-title">
      <Title order={2} size="h4" id="rule-test-title" mb="xs">
        Test
      </Title>
      <Text size="sm" c="dimmed" mb="sm">
        A dry run of the rule as it is in the editor against a conversation as it is now. Nothing changes.
      </Text>
      <Stack gap="sm">
        <Group align="flex-end" wrap="wrap">
          <Select
            label="Conversation"
            placeholder={conversations.loading ? "Loading…" : "Search the conversations"}
            data={options}
            value={conversationId}
            onChange={setConversationId}
            searchable
            nothingFoundMessage="No such conversation"
            miw={280}
            style={{ flex: 1 }}
          />
          <Select label="As if this event happened" placeholder="The rule's first event" data={catalogue.events} value={event} onChange={setEvent} clearable miw={220} />
          <Button onClick={() => void run.run()} loading={run.busy} disabled={!conversationId}>
            Run test
          </Button>
        </Group>
        <FormError error={run.error} />
        {tried && <Results tried={tried} labels={labels} />}
      </Stack>
    </Card>
  );
}

function Results({ tried, labels }: { tried: Tried; labels: Record<string, string> }) {
  return (
    <Stack gap="xs" aria-live="polite">
      <Group gap="xs">
        <Text fw={600}>Result:</Text>
        <Badge color={tried.matched ? "teal.9" : "gray.7"} size="lg">
          {tried.matched ? "Matches" : "Does not match"}
        </Badge>
      </Group>
      <Title order={3} size="h5">
        Conditions
      </Title>
      <List listStyleType="none" spacing={4} aria-label="Conditions evaluated">
        {tried.conditions.map((condition) => {
          const text = describeBranch(condition.rule, labels);
          return (
            <List.Item key={condition.at} aria-label={`${text}: ${condition.result}`}>
              <Box pl={depthOf(condition.at) * 20}>
                <Group gap="xs" wrap="nowrap">
                  <Badge color={condition.result ? "teal.9" : "red.9"} w={60}>
                    {condition.result ? "true" : "false"}
                  </Badge>
                  <Text size="sm">{text}</Text>
                </Group>
              </Box>
            </List.Item>
          );
        })}
      </List>
      <Title order={3} size="h5">
        Actions that would run
      </Title>
      {tried.actions.length ? (
        <List aria-label="Actions that would run">
          {tried.actions.map((action, index) => (
            <List.Item key={index}>
              {actionLabel(action.type)}
              {Object.keys(action.params).length > 0 && (
                <Text span size="sm" c="dimmed">
                  {" "}
                  {Object.entries(action.params)
                    .map(([name, value]) => `${PARAM_LABELS[name] ?? name}: ${labels[`=${String(value)}`] ?? String(value)}`)
                    .join(", ")}
                </Text>
              )}
            </List.Item>
          ))}
        </List>
      ) : (
        <Text size="sm" c="dimmed">
          None (the conditions do not hold).
        </Text>
      )}
    </Stack>
  );
}
