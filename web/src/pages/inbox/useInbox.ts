/**
 * The conversation list of one tab under the chosen statuses: pages loaded so far, the tab
 * counts, and the pushes folded in as they come (a message moves its conversation to the
 * top; other changes update it in place, then the list and counts are fetched again
 * shortly after, as one fetch for a burst of pushes).
 */

import { useCallback, useEffect, useRef, useState } from "react";
import { api } from "../../api/client";
import { useAccount } from "../../lib/account";
import { RELOAD, useRealtime } from "../../realtime/RealtimeContext";
import { foldConversation, foldMessage, isDefaultStatuses, setUnread, type Sort } from "./logic";
import type { ConversationPush, InboxCounts, InboxItem, InboxPage, MessagePush, Tab, UnreadPush } from "./types";

const PER_PAGE = 25;
/** Pushes that may change which conversations a tab holds, and the counts. */
const CONVERSATION_EVENTS = ["conversation.created", "conversation.updated", "conversation.status_changed", "assignee.changed"];

export interface InboxState {
  items: InboxItem[];
  total: number;
  counts: InboxCounts | null;
  error: unknown;
  loading: boolean;
  /** Whether the first page has come. */
  ready: boolean;
  reload: () => void;
  loadMore: () => void;
  markRead: (conversationId: string) => void;
}

export function useInbox({
  tab,
  statuses,
  sort,
  openId,
  me,
}: {
  tab: Tab;
  statuses: string[];
  sort: Sort;
  openId?: string;
  me: string;
}): InboxState {
  const { url, account } = useAccount();
  const [items, setItems] = useState<InboxItem[]>([]);
  const [total, setTotal] = useState(0);
  const [counts, setCounts] = useState<InboxCounts | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(true);
  const [ready, setReady] = useState(false);
  const generation = useRef(0);
  const loaded = useRef(0);
  const statusKey = statuses.join(",");

  const fetchPage = useCallback(
    (page: number, perPage: number) =>
      api.get<InboxPage>(url("/inbox"), { tab, status: statusKey.split(","), sort, page, per_page: perPage }),
    [account.id, tab, statusKey, sort],
  );

  /** Page one again, as long as what is shown (so "load more" is not undone). */
  const reload = useCallback(async () => {
    const mine = ++generation.current;
    setLoading(true);
    try {
      const perPage = Math.min(100, Math.max(PER_PAGE, Math.ceil(loaded.current / PER_PAGE) * PER_PAGE));
      const answer = await fetchPage(1, perPage);
      if (mine !== generation.current) return;
      setItems(answer.items);
      loaded.current = answer.items.length;
      setTotal(answer.meta.total);
      setCounts(answer.counts);
      setError(null);
      setReady(true);
    } catch (caught) {
      if (mine === generation.current) setError(caught);
    } finally {
      if (mine === generation.current) setLoading(false);
    }
  }, [fetchPage]);

  const loadMore = useCallback(async () => {
    const mine = ++generation.current;
    setLoading(true);
    try {
      const answer = await fetchPage(Math.floor(loaded.current / PER_PAGE) + 1, PER_PAGE);
      if (mine !== generation.current) return;
      setItems((current) => {
        const known = new Set(current.map((item) => item.id));
        const next = [...current, ...answer.items.filter((item) => !known.has(item.id))];
        loaded.current = next.length;
        return next;
      });
      setTotal(answer.meta.total);
      setCounts(answer.counts);
      setError(null);
    } catch (caught) {
      if (mine === generation.current) setError(caught);
    } finally {
      if (mine === generation.current) setLoading(false);
    }
  }, [fetchPage]);

  // A fetch asked for by pushes, soon (one for a burst), of the tab shown when it runs.
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const latestReload = useRef(reload);
  latestReload.current = reload;
  const soon = useCallback(() => {
    clearTimeout(timer.current);
    timer.current = setTimeout(() => void latestReload.current(), 400);
  }, []);
  useEffect(() => () => clearTimeout(timer.current), []);

  // A new tab or filter starts again from its first page.
  useEffect(() => {
    clearTimeout(timer.current);
    loaded.current = 0;
    setReady(false);
    void reload();
  }, [reload]);

  const openRef = useRef(openId);
  openRef.current = openId;

  const shown = useRef(items);
  shown.current = items;

  useRealtime("message.created", (data: MessagePush) => {
    const known = shown.current.some((item) => item.id === data.conversation.id);
    const byActivity = sort === "-last_activity_at";
    if (known) {
      setItems((current) => foldMessage(current, data, { me, openId: openRef.current, byActivity }).items);
      if (!byActivity) soon(); // waiting times changed: the server orders again
    } else if (statusKey.split(",").includes(data.conversation.status)) soon();
  });
  useRealtime(CONVERSATION_EVENTS, (data: ConversationPush) => {
    setItems((current) => foldConversation(current, data.conversation, statusKey.split(",")));
    soon();
  });
  useRealtime("unread.updated", (data: UnreadPush) => {
    const count = data.conversation_id === openRef.current ? 0 : data.unread_count;
    setItems((current) => setUnread(current, data.conversation_id, count));
    if (isDefaultStatuses(statusKey.split(","))) setCounts(data.inbox);
  });
  useRealtime(RELOAD, () => void reload());

  const markRead = useCallback((conversationId: string) => setItems((current) => setUnread(current, conversationId, 0)), []);

  return { items, total, counts, error, loading, ready, reload, loadMore, markRead };
}
