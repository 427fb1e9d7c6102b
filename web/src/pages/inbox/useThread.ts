/**
 * One open conversation: its state and messages (the newest page, older ones on demand),
 * kept live from the pushes; the socket told which conversation is open (so this tab
 * hears who else types in it), and the conversation marked read when opened and when a
 * new message comes while it is open.
 */

import { useCallback, useEffect, useRef, useState } from "react";
import { api } from "../../api/client";
import { useAccount } from "../../lib/account";
import { useResource } from "../../lib/useResource";
import { useRealtime, useRealtimeStatus } from "../../realtime/RealtimeContext";
import { mergeMessages } from "./logic";
import type { Conversation, ConversationPush, Message, MessagePage, MessagePush } from "./types";

const CONVERSATION_EVENTS = ["conversation.updated", "conversation.status_changed", "assignee.changed"];
/** Forget someone's typing after this long without news (their `typing_off` may be lost). */
const TYPING_FORGOTTEN = 6000;

export function useThread(conversationId: string, { me, onRead }: { me: string; onRead: (id: string) => void }) {
  const { url, account } = useAccount();
  const { socket, connected } = useRealtimeStatus();
  const path = `/conversations/${conversationId}`;
  const conversation = useResource((signal) => api.get<Conversation>(url(path), undefined, signal), [account.id, conversationId]);
  const page = useResource(
    (signal) => api.get<MessagePage>(url(`${path}/messages`), { limit: 50 }, signal),
    [account.id, conversationId],
  );
  const [older, setOlder] = useState<{ busy: boolean; error: unknown }>({ busy: false, error: null });
  const [typing, setTyping] = useState<string[]>([]);
  const typingTimers = useRef(new Map<string, ReturnType<typeof setTimeout>>());

  const markRead = useCallback(() => {
    onRead(conversationId);
    // A failure only leaves the badge as it was: nothing to tell the reader.
    api.post(url(`${path}/read`), {}).catch(() => undefined);
  }, [account.id, conversationId, onRead]);

  useEffect(() => {
    markRead();
  }, [markRead]);

  // Being in the conversation's room: who else has it open, and their typing.
  useEffect(() => {
    if (!socket || !connected) return;
    socket.emit("conversation.join", { conversation_id: conversationId });
    return () => {
      socket.emit("conversation.leave", { conversation_id: conversationId });
    };
  }, [socket, connected, conversationId]);

  useEffect(() => {
    const timers = typingTimers.current;
    setTyping([]);
    return () => {
      timers.forEach((timer) => clearTimeout(timer));
      timers.clear();
    };
  }, [conversationId]);

  const addMessages = useCallback(
    (messages: Message[]) => page.setData((current) => ({ items: mergeMessages(current?.items ?? [], messages), has_more: current?.has_more ?? false })),
    [page.setData],
  );

  useRealtime(["message.created", "message.updated"], (data: MessagePush, push) => {
    if (data.message.conversation_id !== conversationId) return;
    addMessages([data.message]);
    conversation.setData(data.conversation);
    const fromOthers = !(data.message.sender_type === "agent" && data.message.sender_id === me);
    if (push.event === "message.created" && fromOthers) markRead();
  });
  useRealtime(CONVERSATION_EVENTS, (data: ConversationPush) => {
    if (data.conversation.id === conversationId) conversation.setData(data.conversation);
  });
  useRealtime(["conversation.typing_on", "conversation.typing_off"], (data: { conversation_id: string; user_id: string }, push) => {
    if (data.conversation_id !== conversationId || data.user_id === me) return;
    const timers = typingTimers.current;
    clearTimeout(timers.get(data.user_id));
    const on = push.event === "conversation.typing_on";
    setTyping((current) => (on ? [...new Set([...current, data.user_id])] : current.filter((id) => id !== data.user_id)));
    if (on) {
      timers.set(
        data.user_id,
        setTimeout(() => setTyping((current) => current.filter((id) => id !== data.user_id)), TYPING_FORGOTTEN),
      );
    }
  });

  const loadOlder = useCallback(async () => {
    const first = page.data?.items[0];
    if (!first) return;
    setOlder({ busy: true, error: null });
    try {
      const answer = await api.get<MessagePage>(url(`${path}/messages`), { limit: 50, before: first.id });
      page.setData((current) => ({ items: mergeMessages(current?.items ?? [], answer.items), has_more: answer.has_more }));
      setOlder({ busy: false, error: null });
    } catch (caught) {
      setOlder({ busy: false, error: caught });
    }
  }, [account.id, conversationId, page.data, page.setData]);

  return { conversation, page, older, loadOlder, addMessages, typing };
}
