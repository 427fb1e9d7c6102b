/**
 * The inbox's pure logic: reading the URL's tab and statuses, telling times, matching
 * `/shortcode`s, and folding pushed messages and conversations into the list and the
 * thread the screen holds (so a push never needs a reload to show).
 */

import {
  STATUSES,
  TABS,
  WORKING_STATUSES,
  type Agent,
  type CannedResponse,
  type Conversation,
  type ConversationStatus,
  type InboxItem,
  type Message,
  type Tab,
} from "./types";

/** The tab named by `?tab=`, `all` for anything else. */
export function parseTab(value: string | null): Tab {
  return (TABS as readonly string[]).includes(value ?? "") ? (value as Tab) : "all";
}

/** The statuses named by `?status=` (repeated), the working ones when none is valid. */
export function parseStatuses(values: string[]): ConversationStatus[] {
  const known = values.filter((v): v is ConversationStatus => (STATUSES as readonly string[]).includes(v));
  return known.length ? [...new Set(known)] : [...WORKING_STATUSES];
}

/** The inbox's orders (helpdesk/inbox.py), the first the default. */
export const SORTS = [
  { value: "-last_activity_at", label: "Latest activity" },
  { value: "waiting_since", label: "Waiting longest" },
  { value: "-priority", label: "Priority" },
  { value: "created_at", label: "Oldest first" },
] as const;
export type Sort = (typeof SORTS)[number]["value"];

/** The order named by `?sort=`, latest activity for anything else. */
export function parseSort(value: string | null): Sort {
  return SORTS.find((sort) => sort.value === value)?.value ?? "-last_activity_at";
}

/** Whether `statuses` are the default ones (so the URL need not name them). */
export function isDefaultStatuses(statuses: string[]): boolean {
  return statuses.length === WORKING_STATUSES.length && WORKING_STATUSES.every((s) => statuses.includes(s));
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** "just now", "5 min ago", "3 h ago", "2 d ago", then the date. */
export function relativeTime(iso: string, now: number = Date.now()): string {
  const then = Date.parse(iso);
  if (Number.isNaN(then)) return "";
  const ago = now - then;
  if (ago < MINUTE) return "just now";
  if (ago < HOUR) return `${Math.floor(ago / MINUTE)} min ago`;
  if (ago < DAY) return `${Math.floor(ago / HOUR)} h ago`;
  if (ago < 7 * DAY) return `${Math.floor(ago / DAY)} d ago`;
  return new Date(then).toLocaleDateString(undefined, { day: "numeric", month: "short", year: "numeric" });
}

/** A message's timestamp: the date and the time, in the reader's locale. */
export function fullTime(iso: string): string {
  return new Date(iso).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

export interface SlashQuery {
  /** Where the `/` is. */
  start: number;
  /** What follows it, up to the caret. */
  query: string;
}

/**
 * The `/shortcode` being typed just before `caret`: a `/` at the start of the text or
 * after white space, followed by the characters a short code may hold.
 */
export function slashQuery(text: string, caret: number): SlashQuery | null {
  const before = text.slice(0, caret);
  const found = /(^|\s)\/([A-Za-z0-9_.-]{0,64})$/.exec(before);
  if (!found) return null;
  return { start: before.length - found[2].length - 1, query: found[2] };
}

/** Canned responses for `query`: short codes starting with it first, then those containing it
 * in the short code or title; at most `limit`. */
export function matchCanned(list: CannedResponse[], query: string, limit = 8): CannedResponse[] {
  const q = query.toLowerCase();
  const starts = list.filter((c) => c.short_code.toLowerCase().startsWith(q));
  const contains = list.filter(
    (c) => !starts.includes(c) && (c.short_code.toLowerCase().includes(q) || c.title.toLowerCase().includes(q)),
  );
  return [...starts, ...contains].slice(0, limit);
}

/** `text` with the `/shortcode` (from `slash.start` to `caret`) replaced by `body`; the new caret. */
export function insertAt(text: string, slash: SlashQuery, caret: number, body: string): { text: string; caret: number } {
  const next = text.slice(0, slash.start) + body + text.slice(caret);
  return { text: next, caret: slash.start + body.length };
}

/** Messages oldest first, each once (a later copy of a message replaces the earlier one). */
export function mergeMessages(current: Message[], incoming: Message[]): Message[] {
  const byId = new Map(current.map((m) => [m.id, m]));
  for (const message of incoming) byId.set(message.id, message);
  return [...byId.values()].sort((a, b) => a.created_at.localeCompare(b.created_at) || a.id.localeCompare(b.id));
}

export interface MessageFold {
  items: InboxItem[];
  /** False when the conversation is not in the list (the list must be fetched again). */
  known: boolean;
}

/**
 * The list after a `message.created` push: the conversation gets the message as its
 * preview and the conversation's new state, moves to the top (when the list is sorted by
 * activity and the message is public), and counts one more unread message unless the
 * reader sent it or has the conversation open.
 */
export function foldMessage(
  items: InboxItem[],
  push: { message: Message; conversation: Conversation },
  options: { me: string; openId?: string; byActivity: boolean },
): MessageFold {
  const index = items.findIndex((item) => item.id === push.conversation.id);
  if (index === -1) return { items, known: false };
  const { message } = push;
  const mine = message.sender_type === "agent" && message.sender_id === options.me;
  const unread = mine || options.openId === push.conversation.id ? 0 : 1;
  const item: InboxItem = {
    ...items[index],
    ...push.conversation,
    last_message_preview: message.body.slice(0, 140),
    unread_count: items[index].unread_count + unread,
  };
  const rest = items.filter((_, i) => i !== index);
  const toTop = options.byActivity && !message.private;
  return { items: toTop ? [item, ...rest] : items.map((old, i) => (i === index ? item : old)), known: true };
}

/** The list after a conversation changed: its fields updated, or left out when its status is
 * no longer one the list shows. */
export function foldConversation(items: InboxItem[], conversation: Conversation, statuses: string[]): InboxItem[] {
  if (!statuses.includes(conversation.status)) return items.filter((item) => item.id !== conversation.id);
  return items.map((item) => (item.id === conversation.id ? { ...item, ...conversation } : item));
}

/** The list with one conversation's unread count set. */
export function setUnread(items: InboxItem[], conversationId: string, count: number): InboxItem[] {
  return items.map((item) => (item.id === conversationId ? { ...item, unread_count: count } : item));
}

/** Who wrote a message, as the thread names them. */
export function senderName(message: Message, context: { contactName: string; agents: Agent[]; me: string }): string {
  if (message.sender_type === "contact") return context.contactName;
  if (message.sender_type === "system") return "System";
  if (message.sender_type === "automation") return "Automation";
  if (message.sender_id === context.me) return "You";
  return context.agents.find((a) => a.user_id === message.sender_id)?.name ?? "An agent";
}

/** The delivery of an outbound public message, in words (nothing for the others). */
export function deliveryLabel(message: Message): string | null {
  if (message.direction !== "outbound" || message.private) return null;
  const words = { queued: "Queued", sent: "Sent", delivered: "Delivered", failed: "Failed" }[message.delivery_status];
  return message.delivery_status === "failed" && message.failure_reason ? `${words}: ${message.failure_reason}` : words;
}

/** Where each status may go (helpdesk/states.py). */
export const TRANSITIONS: Record<ConversationStatus, ConversationStatus[]> = {
  open: ["assigned", "pending", "snoozed", "resolved"],
  assigned: ["open", "pending", "snoozed", "resolved"],
  pending: ["open", "assigned", "snoozed", "resolved"],
  snoozed: ["open", "assigned", "pending", "resolved"],
  resolved: ["open", "closed"],
  closed: [],
};

export type StatusAction = { label: string; status: ConversationStatus };

/** The status buttons a conversation offers: resolve, reopen, mark pending, close (snoozing
 * has its own control: see {@link canSnooze}). */
export function statusActions(conversation: Pick<Conversation, "status" | "assignee_id">): StatusAction[] {
  const allowed = TRANSITIONS[conversation.status];
  const actions: StatusAction[] = [];
  if (allowed.includes("resolved")) actions.push({ label: "Resolve", status: "resolved" });
  if (["resolved", "snoozed", "pending"].includes(conversation.status)) {
    // Reopening goes back to work: to its assignee when it has one (resolved goes through open).
    const target = conversation.status !== "resolved" && conversation.assignee_id ? "assigned" : "open";
    if (allowed.includes(target)) actions.push({ label: "Reopen", status: target });
  }
  if (allowed.includes("pending")) actions.push({ label: "Mark pending", status: "pending" });
  if (allowed.includes("closed")) actions.push({ label: "Close", status: "closed" });
  return actions;
}

export function canSnooze(status: ConversationStatus): boolean {
  return TRANSITIONS[status].includes("snoozed");
}

/** When to say "typing" again: at most every `every` ms while typing goes on. */
export class TypingSignal {
  private sentAt = -Infinity;
  private on = false;

  constructor(private readonly every = 2000) {}

  /** A key was typed at `now`: whether to announce typing. */
  input(now: number): boolean {
    if (this.on && now - this.sentAt < this.every) return false;
    this.on = true;
    this.sentAt = now;
    return true;
  }

  /** Typing stopped (idle, sent, left): whether to announce it (only if typing was announced). */
  stop(): boolean {
    if (!this.on) return false;
    this.on = false;
    this.sentAt = -Infinity;
    return true;
  }
}

/** Names for the statuses, as the inbox shows them. */
export const STATUS_LABELS: Record<ConversationStatus, string> = {
  open: "Open",
  assigned: "Assigned",
  pending: "Pending",
  snoozed: "Snoozed",
  resolved: "Resolved",
  closed: "Closed",
};

/** A local `datetime-local` value as the API's aware ISO time (null for an empty or bad one). */
export function localToIso(value: string): string | null {
  if (!value) return null;
  const at = new Date(value);
  return Number.isNaN(at.getTime()) ? null : at.toISOString();
}
