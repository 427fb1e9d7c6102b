/** The inbox's left side: the tabs with their counts, the status filter, and the tab's
 * conversations (newest activity first) with "load more". */

import { Avatar, Badge, Box, Button, Group, MultiSelect, Select, Stack, Tabs, Text, UnstyledButton, VisuallyHidden } from "@mantine/core";
import { Link } from "react-router-dom";
import { Status } from "../../lib/Status";
import { relativeTime, SORTS, STATUS_LABELS, type Sort } from "./logic";
import { STATUSES, TABS, type Agent, type ConversationStatus, type InboxItem, type Tab } from "./types";
import type { InboxState } from "./useInbox";

const TAB_LABELS: Record<Tab, string> = { mine: "Mine", unassigned: "Unassigned", all: "All", mentions: "Mentions" };
const PRIORITY_COLORS: Record<string, string> = { low: "gray", medium: "blue", high: "orange", urgent: "red" };

export function ConversationList({
  inbox,
  tab,
  onTab,
  statuses,
  onStatuses,
  sort,
  onSort,
  openId,
  linkTo,
  agents,
  me,
}: {
  inbox: InboxState;
  tab: Tab;
  onTab: (tab: Tab) => void;
  statuses: ConversationStatus[];
  onStatuses: (statuses: ConversationStatus[]) => void;
  sort: Sort;
  onSort: (sort: Sort) => void;
  openId?: string;
  linkTo: (id: string) => string;
  agents: Agent[];
  me: string;
}) {
  return (
    <Stack gap="sm" component="section" aria-label="Conversations">
      <Group gap="xs" align="flex-end" wrap="nowrap">
        <MultiSelect
          label="Status"
          size="xs"
          style={{ flex: 1, minWidth: 0 }}
          data={STATUSES.map((status) => ({ value: status, label: STATUS_LABELS[status] }))}
          value={statuses}
          onChange={(values) => onStatuses(values as ConversationStatus[])}
        />
        <Select
          label="Sort by"
          size="xs"
          w={130}
          data={SORTS.map((option) => ({ value: option.value, label: option.label }))}
          value={sort}
          onChange={(value) => value && onSort(value as Sort)}
          allowDeselect={false}
        />
      </Group>
      <Tabs value={tab} onChange={(value) => value && onTab(value as Tab)} keepMounted={false}>
        <Tabs.List aria-label="Inbox tabs">
          {TABS.map((name) => (
            <Tabs.Tab key={name} value={name} px={8}>
              <Group gap={4} wrap="nowrap">
                {TAB_LABELS[name]}
                {inbox.counts && (
                  <Badge size="sm" variant="light" color="gray" px={6}>
                    {inbox.counts[name]}
                  </Badge>
                )}
              </Group>
            </Tabs.Tab>
          ))}
        </Tabs.List>
        {TABS.map((name) => (
          <Tabs.Panel key={name} value={name} pt="xs">
            <Status ready={inbox.ready} error={inbox.items.length ? null : inbox.error} retry={inbox.reload}>
              <Items inbox={inbox} openId={openId} linkTo={linkTo} agents={agents} me={me} />
            </Status>
          </Tabs.Panel>
        ))}
      </Tabs>
    </Stack>
  );
}

function Items({ inbox, openId, linkTo, agents, me }: { inbox: InboxState; openId?: string; linkTo: (id: string) => string; agents: Agent[]; me: string }) {
  if (inbox.items.length === 0) {
    return (
      <Text c="dimmed" ta="center" py="lg">
        No conversations here.
      </Text>
    );
  }
  return (
    <Stack gap={4}>
      <Stack gap={4} component="ul" style={{ listStyle: "none", padding: 0, margin: 0 }}>
        {inbox.items.map((item) => (
          <li key={item.id}>
            <Item item={item} open={item.id === openId} to={linkTo(item.id)} agents={agents} me={me} />
          </li>
        ))}
      </Stack>
      {inbox.error ? (
        <Text c="red.8" size="sm" role="alert">
          The list could not be brought up to date.
        </Text>
      ) : null}
      {inbox.items.length < inbox.total && (
        <Button variant="light" size="xs" onClick={inbox.loadMore} loading={inbox.loading}>
          Load more ({inbox.total - inbox.items.length} more)
        </Button>
      )}
    </Stack>
  );
}

function Item({ item, open, to, agents, me }: { item: InboxItem; open: boolean; to: string; agents: Agent[]; me: string }) {
  const unread = open ? 0 : item.unread_count;
  const assignee = item.assignee_id === me ? "You" : agents.find((a) => a.user_id === item.assignee_id)?.name;
  return (
    <UnstyledButton
      component={Link}
      to={to}
      aria-current={open ? "page" : undefined}
      display="block"
      p="xs"
      w="100%"
      style={{
        borderRadius: "var(--mantine-radius-md)",
        background: open ? "var(--mantine-color-blue-0)" : undefined,
        border: "1px solid var(--mantine-color-gray-3)",
      }}
    >
      <Group gap="sm" wrap="nowrap" align="flex-start">
        <Avatar name={item.contact_name} color="initials" size="md" aria-hidden />
        <Box style={{ flex: 1, minWidth: 0 }}>
          <Group justify="space-between" gap="xs" wrap="nowrap">
            <Text size="sm" fw={unread ? 700 : 600} truncate>
              {item.contact_name}
            </Text>
            <Text size="xs" c="dimmed" component="time" dateTime={item.last_activity_at} style={{ flexShrink: 0 }}>
              {relativeTime(item.last_activity_at)}
            </Text>
          </Group>
          <Text size="sm" c="dimmed" lineClamp={1}>
            {item.last_message_preview ?? "No messages yet"}
          </Text>
          <Group gap={6} mt={4} wrap="wrap">
            <Badge size="xs" variant="light" color="gray">
              {STATUS_LABELS[item.status]}
            </Badge>
            {item.priority !== "none" && (
              <Badge size="xs" variant="light" color={PRIORITY_COLORS[item.priority]}>
                {item.priority} priority
              </Badge>
            )}
            <Text size="xs" c="dimmed">
              {assignee ? `Assigned to ${assignee}` : item.assignee_id ? "Assigned" : "Unassigned"}
            </Text>
            {unread > 0 && (
              <Badge size="sm" color="red" ml="auto">
                {unread}
                <VisuallyHidden> unread</VisuallyHidden>
              </Badge>
            )}
          </Group>
        </Box>
      </Group>
    </UnstyledButton>
  );
}
