/** What was done to the contact, by whom and when, with each change's before and after. */

import { Button, Group, Paper, Stack, Table, Text, Title } from "@mantine/core";
import { useEffect, useMemo, useState } from "react";
import { api, type Page } from "../../api/client";
import { useAccount } from "../../lib/account";
import { Status } from "../../lib/Status";
import { useResource } from "../../lib/useResource";
import { actionLabel, actorLabel, diffLines } from "./activity";
import { formatDateTime, useMembers } from "./data";
import type { AuditEntry, CustomField } from "./types";

const STEP = 20;

export function ContactActivity(props: { contactId: string; changes: number; definitions: CustomField[] }) {
  const { can } = useAccount();
  if (!can("audit:read")) return null;
  return <Activity {...props} />;
}

function Activity({ contactId, changes, definitions }: { contactId: string; changes: number; definitions: CustomField[] }) {
  const { account, url } = useAccount();
  const [count, setCount] = useState(STEP);
  const log = useResource(
    (signal) =>
      api.get<Page<AuditEntry>>(
        url("/audit-log"),
        { filter: ["target_type:eq:contact", `target_id:eq:${contactId}`], per_page: count },
        signal,
      ),
    [account.id, contactId, count],
  );
  useEffect(() => {
    if (changes) void log.reload();
  }, [changes]);
  const members = useMembers();
  const labels = useMemo(() => Object.fromEntries(definitions.map((d) => [`custom_fields.${d.key}`, d.label])), [definitions]);
  const page = log.data;
  return (
    <Paper withBorder p="md" component="section" aria-labelledby="contact-activity">
      <Title order={2} size="h4" id="contact-activity" mb="sm">
        Activity
      </Title>
      <Status ready={page !== undefined} error={log.error} retry={log.reload}>
        <Stack gap="sm" component="ol" style={{ listStyle: "none", padding: 0, margin: 0 }} aria-label="Activity">
          {page?.items.map((entry) => (
            <li key={entry.id}>
              <Group gap={6} wrap="wrap">
                <Text size="sm">
                  <Text span fw={600} inherit>
                    {actionLabel(entry.action)}
                  </Text>{" "}
                  by {actorLabel(entry, members.data ?? [])}
                </Text>
                <Text size="xs" c="dimmed">
                  <time dateTime={entry.occurred_at}>{formatDateTime(entry.occurred_at)}</time>
                </Text>
              </Group>
              <Diff entry={entry} labels={labels} />
            </li>
          ))}
        </Stack>
        {page && page.meta.total > page.items.length && count < 100 && (
          <Button variant="subtle" size="xs" mt="xs" onClick={() => setCount((n) => Math.min(100, n + STEP))}>
            Show older activity
          </Button>
        )}
      </Status>
    </Paper>
  );
}

function Diff({ entry, labels }: { entry: AuditEntry; labels: Record<string, string> }) {
  const lines = diffLines(entry, labels);
  if (!lines.length) return null;
  const created = entry.before === null;
  const deleted = entry.after === null;
  return (
    <Table withTableBorder fz="sm" mt={4} layout="fixed">
      <Table.Thead>
        <Table.Tr>
          <Table.Th scope="col">Field</Table.Th>
          {!created && <Table.Th scope="col">Before</Table.Th>}
          {!deleted && <Table.Th scope="col">After</Table.Th>}
        </Table.Tr>
      </Table.Thead>
      <Table.Tbody>
        {lines.map((line) => (
          <Table.Tr key={line.field}>
            <Table.Th scope="row" fw={500}>
              {line.label}
            </Table.Th>
            {!created && <Table.Td style={{ overflowWrap: "anywhere" }}>{line.before}</Table.Td>}
            {!deleted && <Table.Td style={{ overflowWrap: "anywhere" }}>{line.after}</Table.Td>}
          </Table.Tr>
        ))}
      </Table.Tbody>
    </Table>
  );
}
