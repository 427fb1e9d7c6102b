/** The API's inbox shapes (api/inbox.py, api/conversations.py, api/replies.py, api/assignment.py). */

export const TABS = ["mine", "unassigned", "all", "mentions"] as const;
export type Tab = (typeof TABS)[number];

export const STATUSES = ["open", "assigned", "pending", "snoozed", "resolved", "closed"] as const;
export type ConversationStatus = (typeof STATUSES)[number];
/** What the inbox shows unless other statuses are chosen (the API's default too). */
export const WORKING_STATUSES: ConversationStatus[] = ["open", "assigned", "pending", "snoozed"];

export interface Conversation {
  id: string;
  channel_id: string;
  contact_id: string;
  status: ConversationStatus;
  priority: "none" | "low" | "medium" | "high" | "urgent";
  assignee_id: string | null;
  team_id: string | null;
  subject: string | null;
  snoozed_until: string | null;
  created_at: string;
  updated_at: string;
  last_activity_at: string;
  waiting_since: string | null;
  resolved_at: string | null;
  tags: string[];
  muted: boolean;
}

export interface InboxItem extends Conversation {
  contact_name: string;
  last_message_preview: string | null;
  unread_count: number;
}

export type TabCounts = Record<Tab, number>;
export interface InboxCounts extends TabCounts {
  unread: TabCounts;
}

export interface InboxPage {
  items: InboxItem[];
  meta: { page: number; per_page: number; total: number; pages: number };
  counts: InboxCounts;
}

export interface Message {
  id: string;
  conversation_id: string;
  direction: "inbound" | "outbound";
  sender_type: "contact" | "agent" | "automation" | "system";
  sender_id: string | null;
  body: string;
  body_html: string | null;
  private: boolean;
  mentions?: string[];
  metadata: Record<string, unknown>;
  delivery_status: "queued" | "sent" | "delivered" | "failed";
  failure_reason: string | null;
  created_at: string;
}

export interface MessagePage {
  items: Message[];
  has_more: boolean;
}

export interface Agent {
  user_id: string;
  name: string;
  email: string;
  status: string;
}

export interface CannedResponse {
  id: string;
  short_code: string;
  title: string;
  body: string;
}

export interface Template {
  id: string;
  name: string;
  subject: string | null;
  body: string;
}

/** `message.created` / `message.updated` pushes. */
export interface MessagePush {
  message: Message;
  conversation: Conversation;
}

/** `conversation.*` and `assignee.changed` pushes. */
export interface ConversationPush {
  conversation: Conversation;
}

/** `unread.updated`: the caller's count for one conversation and their inbox's tab counts. */
export interface UnreadPush {
  conversation_id: string;
  unread_count: number;
  inbox: InboxCounts;
}
