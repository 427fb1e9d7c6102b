import { Card, SimpleGrid, Text, Title, UnstyledButton } from "@mantine/core";
import { Link } from "react-router-dom";
import { api } from "../api/client";
import { useAccount } from "../lib/account";
import { Status } from "../lib/Status";
import { useResource } from "../lib/useResource";
import { useRealtime } from "../realtime/RealtimeContext";

/** `GET …/dashboard`: the inbox's tab counts, SLA risk, contacts and who is online. */
export interface DashboardFigures {
  conversations: { open: number; unassigned: number; mine: number; sla_at_risk: number };
  contacts: number | null;
  members: { total: number; online: number };
}

/** The events after which the figures may have changed. */
const CHANGES = [
  "conversation.created",
  "conversation.updated",
  "conversation.status_changed",
  "conversation.sla_warning",
  "conversation.sla_breached",
  "assignee.changed",
  "presence.update",
  "contact.created",
  "contact.deleted",
];

export function Dashboard() {
  const { account, url, base } = useAccount();
  const figures = useResource(() => api.get<DashboardFigures>(url("/dashboard")), [account.id]);
  useRealtime(CHANGES, () => void figures.reload());
  const data = figures.data;
  const tiles = data
    ? [
        { label: "Open conversations", value: data.conversations.open, to: `${base}/inbox?tab=all` },
        { label: "Unassigned", value: data.conversations.unassigned, to: `${base}/inbox?tab=unassigned` },
        { label: "My open", value: data.conversations.mine, to: `${base}/inbox?tab=mine` },
        { label: "SLA at risk", value: data.conversations.sla_at_risk, to: `${base}/inbox?tab=all&sort=waiting_since` },
        ...(data.contacts === null ? [] : [{ label: "Contacts", value: data.contacts, to: `${base}/contacts` }]),
        { label: "Team members online", value: `${data.members.online} / ${data.members.total}`, to: `${base}/settings/members` },
      ]
    : [];
  return (
    <>
      <Title order={1} size="h2" mb="md">
        {account.name}
      </Title>
      <Status ready={data !== undefined} error={figures.error} retry={figures.reload}>
        <SimpleGrid cols={{ base: 1, xs: 2, md: 3 }}>
          {tiles.map((tile) => (
            <UnstyledButton key={tile.label} component={Link} to={tile.to}>
              <Card withBorder padding="lg" radius="md">
                <Text size="sm" c="dimmed" fw={500}>
                  {tile.label}
                </Text>
                <Text fz={32} fw={700} aria-label={`${tile.label}: ${tile.value}`}>
                  {tile.value}
                </Text>
              </Card>
            </UnstyledButton>
          ))}
        </SimpleGrid>
      </Status>
    </>
  );
}
