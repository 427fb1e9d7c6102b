/**
 * The agents' inbox, `/a/<account>/inbox[/<conversation id>]`: the conversation list (tab
 * and statuses in the URL: `?tab=mine&status=open`) beside the open conversation; on a
 * phone, the list, then the conversation full width with a way back.
 */

import { Box, Center, Group, Stack, Text, Title } from "@mantine/core";
import { useMediaQuery } from "@mantine/hooks";
import { useCallback, useRef } from "react";
import { Route, Routes, useParams, useSearchParams } from "react-router-dom";
import { api } from "../../api/client";
import { useAuth } from "../../auth/AuthContext";
import { useAccount } from "../../lib/account";
import { useResource } from "../../lib/useResource";
import { ConversationList } from "./ConversationList";
import { isDefaultStatuses, parseSort, parseStatuses, parseTab, type Sort } from "./logic";
import { ThreadView } from "./ThreadView";
import type { Agent, ConversationStatus, Tab } from "./types";
import { useInbox } from "./useInbox";

export function InboxSection() {
  return (
    <Routes>
      <Route path=":conversationId?" element={<InboxPage />} />
    </Routes>
  );
}

function InboxPage() {
  const { conversationId } = useParams();
  const { account, base, url } = useAccount();
  const { context } = useAuth();
  const me = context?.user.id ?? "";
  const [search, setSearch] = useSearchParams();
  const tab = parseTab(search.get("tab"));
  const statuses = parseStatuses(search.getAll("status"));
  const sort = parseSort(search.get("sort"));
  // Read at once (not after a first render), so the thread is not mounted twice on a phone.
  const phone = useMediaQuery("(max-width: 47.99em)", undefined, { getInitialValueInEffect: false });
  const inbox = useInbox({ tab, statuses, sort, openId: conversationId, me });
  const agents = useResource(
    (signal) => api.get<{ items: Agent[] }>(url("/agents"), undefined, signal).catch(() => ({ items: [] as Agent[] })),
    [account.id],
  );
  const agentList = agents.data?.items ?? [];

  // Names of contacts seen in the list, so a thread keeps its name when it leaves the list.
  const names = useRef(new Map<string, string>());
  inbox.items.forEach((item) => names.current.set(item.id, item.contact_name));

  const query = search.toString();
  const listPath = `${base}/inbox${query ? `?${query}` : ""}`;
  const linkTo = useCallback((id: string) => `${base}/inbox/${id}${query ? `?${query}` : ""}`, [base, query]);
  const onTab = (next: Tab) =>
    setSearch((current) => {
      const params = new URLSearchParams(current);
      params.set("tab", next);
      return params;
    });
  const onSort = (next: Sort) =>
    setSearch((current) => {
      const params = new URLSearchParams(current);
      if (next === "-last_activity_at") params.delete("sort");
      else params.set("sort", next);
      return params;
    });
  const onStatuses = (next: ConversationStatus[]) =>
    setSearch((current) => {
      const params = new URLSearchParams(current);
      params.delete("status");
      if (next.length && !isDefaultStatuses(next)) next.forEach((status) => params.append("status", status));
      return params;
    });

  const list = (
    <ConversationList
      inbox={inbox}
      tab={tab}
      onTab={onTab}
      statuses={statuses}
      onStatuses={onStatuses}
      sort={sort}
      onSort={onSort}
      openId={conversationId}
      linkTo={linkTo}
      agents={agentList}
      me={me}
    />
  );
  const thread = conversationId ? (
    <ThreadView
      key={conversationId}
      conversationId={conversationId}
      contactName={names.current.get(conversationId)}
      agents={agentList}
      me={me}
      backTo={phone ? listPath : undefined}
      onRead={inbox.markRead}
      phone={Boolean(phone)}
    />
  ) : null;

  if (phone) {
    return (
      <Stack gap="sm">
        {!conversationId && (
          <Title order={1} size="h3">
            Inbox
          </Title>
        )}
        {thread ?? list}
      </Stack>
    );
  }
  return (
    <Stack gap="sm">
      <Title order={1} size="h3">
        Inbox
      </Title>
      <Group align="stretch" wrap="nowrap" gap="md" h="calc(100dvh - 150px)" mih={520}>
        <Box w={380} style={{ flexShrink: 0, overflowY: "auto" }} pr={4}>
          {list}
        </Box>
        <Box style={{ flex: 1, minWidth: 0 }}>
          {thread ?? (
            <Center h="100%">
              <Text c="dimmed">Choose a conversation to read it.</Text>
            </Center>
          )}
        </Box>
      </Group>
    </Stack>
  );
}
