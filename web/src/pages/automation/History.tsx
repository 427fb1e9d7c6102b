/**
 * A saved rule's history: its versions (any one can be brought back, as the next
 * version) and its run log (each evaluation that matched, with its conditions and every
 * action's outcome).
 */

import { Accordion, Badge, Button, Code, Group, Pagination, Stack, Table, Text } from "@mantine/core";
import { useState } from "react";
import { api, type Page } from "../../api/client";
import { useAccount } from "../../lib/account";
import { FormError } from "../../lib/FormError";
import { Status } from "../../lib/Status";
import { useResource } from "../../lib/useResource";
import { useSubmit } from "../../lib/useSubmit";
import { useRealtime } from "../../realtime/RealtimeContext";
import { actionLabel, describeBranch, type Rule, type Run, type Version } from "./rules";

const when = (iso: string) => new Date(iso).toLocaleString();

export function Versions({ rule, onRestored }: { rule: Rule; onRestored: (rule: Rule) => void }) {
  const { url, can } = useAccount();
  const versions = useResource(() => api.get<{ items: Version[] }>(url(`/automation/rules/${rule.id}/versions`)), [rule.id, rule.version]);
  const restore = useSubmit(async (version: number) => {
    onRestored(await api.post<Rule>(url(`/automation/rules/${rule.id}/versions/${version}/restore`)));
  });
  return (
    <Status ready={versions.data !== undefined} error={versions.error} retry={versions.reload}>
      <FormError error={restore.error} />
      <Accordion variant="separated" chevronPosition="left">
        {(versions.data?.items ?? []).map((version) => (
          <Accordion.Item key={version.version} value={String(version.version)}>
            <Accordion.Control aria-label={`Version ${version.version}`}>
              <Group gap="xs">
                <Text fw={500}>Version {version.version}</Text>
                {version.version === rule.version && <Badge size="sm">current</Badge>}
                <Text size="sm" c="dimmed">
                  {when(version.created_at)} · {version.definition.name}
                </Text>
              </Group>
            </Accordion.Control>
            <Accordion.Panel>
              <Stack gap="xs">
                <Text size="sm">
                  {version.definition.enabled ? "Enabled" : "Disabled"} · on {version.definition.events.join(", ") || `schedule ${JSON.stringify(version.definition.schedule)}`} ·{" "}
                  {version.definition.actions.map((a) => actionLabel(a.type)).join(", ")}
                </Text>
                <Code block>{JSON.stringify(version.definition.conditions, null, 2)}</Code>
                {version.version !== rule.version && can("automation:write") && (
                  <Group>
                    <Button size="xs" variant="light" loading={restore.busy} onClick={() => void restore.run(version.version)}>
                      Restore version {version.version}
                    </Button>
                  </Group>
                )}
              </Stack>
            </Accordion.Panel>
          </Accordion.Item>
        ))}
      </Accordion>
    </Status>
  );
}

const OUTCOME_COLORS: Record<string, string> = { done: "teal.9", skipped: "gray.7", failed: "red.9" };

export function RunLog({ rule }: { rule: Rule }) {
  const { url } = useAccount();
  const [page, setPage] = useState(1);
  const runs = useResource(
    () => api.get<Page<Run>>(url("/automation/runs"), { filter: `rule_id:eq:${rule.id}`, page, per_page: 20 }),
    [rule.id, page],
  );
  useRealtime(["conversation.updated", "conversation.created", "message.created", "assignee.changed"], () => void runs.reload());
  const items = runs.data?.items ?? [];
  return (
    <Status ready={runs.data !== undefined} error={runs.error} retry={runs.reload}>
      <Group justify="space-between" mb="xs">
        <Text size="sm" c="dimmed">
          {runs.data?.meta.total ?? 0} runs
        </Text>
        <Button size="xs" variant="subtle" onClick={() => void runs.reload()} loading={runs.loading}>
          Refresh
        </Button>
      </Group>
      {items.length === 0 ? (
        <Text c="dimmed" size="sm">
          The rule has not run yet.
        </Text>
      ) : (
        <Table.ScrollContainer minWidth={560}>
          <Table striped aria-label="Run log">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>When</Table.Th>
                <Table.Th>Event</Table.Th>
                <Table.Th>Matched</Table.Th>
                <Table.Th>Actions</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {items.map((run) => (
                <Table.Tr key={run.id}>
                  <Table.Td>
                    {when(run.created_at)}
                    <Text size="xs" c="dimmed">
                      v{run.rule_version} · {Math.round(run.duration_ms)} ms
                    </Text>
                  </Table.Td>
                  <Table.Td>
                    {run.event_name}
                    {run.conversation_id && (
                      <Text size="xs" c="dimmed">
                        conversation {run.conversation_id.slice(0, 8)}
                      </Text>
                    )}
                  </Table.Td>
                  <Table.Td>
                    <Badge color={run.matched ? "teal.9" : "gray.7"}>
                      {run.matched ? "yes" : "no"}
                    </Badge>
                    <Text size="xs" c="dimmed">
                      {run.conditions[0] ? describeBranch(run.conditions[0].rule) : ""}
                    </Text>
                  </Table.Td>
                  <Table.Td>
                    <Stack gap={2}>
                      {run.actions.map((action, index) => (
                        <Group key={index} gap={4} wrap="nowrap">
                          <Badge size="sm" color={OUTCOME_COLORS[action.outcome] ?? "gray.7"}>
                            {action.outcome}
                          </Badge>
                          <Text size="sm">
                            {actionLabel(action.type)}
                            {(action.error || action.reason) && `: ${action.error ?? action.reason}`}
                          </Text>
                        </Group>
                      ))}
                    </Stack>
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      )}
      {(runs.data?.meta.pages ?? 0) > 1 && <Pagination mt="sm" total={runs.data!.meta.pages} value={page} onChange={setPage} aria-label="Run log pages" />}
    </Status>
  );
}
