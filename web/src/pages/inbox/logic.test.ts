import { describe, expect, it } from "vitest";
import {
  TypingSignal,
  deliveryLabel,
  foldConversation,
  foldMessage,
  insertAt,
  isDefaultStatuses,
  matchCanned,
  mergeMessages,
  parseSort,
  parseStatuses,
  parseTab,
  relativeTime,
  senderName,
  slashQuery,
  statusActions,
} from "./logic";
import type { CannedResponse, Conversation, InboxItem, Message } from "./types";

const ME = "11111111-1111-1111-1111-111111111111";

function conversation(id: string, extra: Partial<Conversation> = {}): Conversation {
  return {
    id,
    channel_id: "c",
    contact_id: "k",
    status: "open",
    priority: "none",
    assignee_id: null,
    team_id: null,
    subject: null,
    snoozed_until: null,
    created_at: "2026-01-01T10:00:00+00:00",
    updated_at: "2026-01-01T10:00:00+00:00",
    last_activity_at: "2026-01-01T10:00:00+00:00",
    waiting_since: null,
    resolved_at: null,
    tags: [],
    muted: false,
    ...extra,
  };
}

function item(id: string, extra: Partial<InboxItem> = {}): InboxItem {
  return { ...conversation(id), contact_name: `Contact ${id}`, last_message_preview: "old", unread_count: 0, ...extra };
}

function message(id: string, extra: Partial<Message> = {}): Message {
  return {
    id,
    conversation_id: "b",
    direction: "inbound",
    sender_type: "contact",
    sender_id: null,
    body: `body ${id}`,
    body_html: null,
    private: false,
    metadata: {},
    delivery_status: "delivered",
    failure_reason: null,
    created_at: "2026-01-01T10:05:00+00:00",
    ...extra,
  };
}

describe("the URL's tab and statuses", () => {
  it("reads a known tab and falls back to all", () => {
    expect(parseTab("mine")).toBe("mine");
    expect(parseTab("mentions")).toBe("mentions");
    expect(parseTab("bogus")).toBe("all");
    expect(parseTab(null)).toBe("all");
  });

  it("reads a known sort and falls back to latest activity", () => {
    expect(parseSort("waiting_since")).toBe("waiting_since");
    expect(parseSort("-priority")).toBe("-priority");
    expect(parseSort("name")).toBe("-last_activity_at");
    expect(parseSort(null)).toBe("-last_activity_at");
  });

  it("keeps known statuses once, else the working ones", () => {
    expect(parseStatuses(["resolved", "closed", "resolved", "nope"])).toEqual(["resolved", "closed"]);
    expect(parseStatuses([])).toEqual(["open", "assigned", "pending", "snoozed"]);
    expect(isDefaultStatuses(["snoozed", "open", "pending", "assigned"])).toBe(true);
    expect(isDefaultStatuses(["open"])).toBe(false);
  });
});

describe("relativeTime", () => {
  const now = Date.parse("2026-03-10T12:00:00Z");
  it("tells recent times in words", () => {
    expect(relativeTime("2026-03-10T11:59:30Z", now)).toBe("just now");
    expect(relativeTime("2026-03-10T11:55:00Z", now)).toBe("5 min ago");
    expect(relativeTime("2026-03-10T09:00:00Z", now)).toBe("3 h ago");
    expect(relativeTime("2026-03-08T12:00:00Z", now)).toBe("2 d ago");
  });

  it("gives older ones as a date, and nothing for a bad one", () => {
    expect(relativeTime("2025-12-25T12:00:00Z", now)).toMatch(/2025/);
    expect(relativeTime("not a time", now)).toBe("");
  });
});

describe("/shortcode", () => {
  const canned: CannedResponse[] = [
    { id: "1", short_code: "thanks", title: "Thank you", body: "Thank you!" },
    { id: "2", short_code: "refund", title: "Refund policy", body: "Refunds take 5 days." },
    { id: "3", short_code: "bye", title: "Thanks and goodbye", body: "Bye!" },
  ];

  it("finds the code typed before the caret, at the start or after a space", () => {
    expect(slashQuery("/tha", 4)).toEqual({ start: 0, query: "tha" });
    expect(slashQuery("Hello /re", 9)).toEqual({ start: 6, query: "re" });
    expect(slashQuery("Hello /", 7)).toEqual({ start: 6, query: "" });
  });

  it("ignores slashes inside words and codes the caret has left", () => {
    expect(slashQuery("and/or", 6)).toBeNull();
    expect(slashQuery("/thanks then", 12)).toBeNull();
    expect(slashQuery("see http://x", 12)).toBeNull();
  });

  it("ranks codes starting with the query before those containing it", () => {
    expect(matchCanned(canned, "th").map((c) => c.short_code)).toEqual(["thanks", "bye"]);
    expect(matchCanned(canned, "").map((c) => c.short_code)).toEqual(["thanks", "refund", "bye"]);
    expect(matchCanned(canned, "REF").map((c) => c.id)).toEqual(["2"]);
    expect(matchCanned(canned, "zzz")).toEqual([]);
  });

  it("replaces the code with the response and puts the caret after it", () => {
    const text = "Hi /tha and more";
    const slash = slashQuery(text, 7)!;
    expect(insertAt(text, slash, 7, "Thank you!")).toEqual({ text: "Hi Thank you! and more", caret: 13 });
  });
});

describe("messages pushed into the thread", () => {
  it("keeps them oldest first, each once, the newer copy winning", () => {
    const a = message("a", { created_at: "2026-01-01T10:00:00+00:00" });
    const b = message("b", { created_at: "2026-01-01T10:01:00+00:00", delivery_status: "queued" });
    const c = message("c", { created_at: "2026-01-01T09:00:00+00:00" });
    const merged = mergeMessages([a, b], [{ ...b, delivery_status: "sent" }, c]);
    expect(merged.map((m) => m.id)).toEqual(["c", "a", "b"]);
    expect(merged[2].delivery_status).toBe("sent");
  });
});

describe("a pushed message in the list", () => {
  const list = [item("a"), item("b", { unread_count: 2 }), item("c")];

  it("moves its conversation to the top with the preview and one more unread", () => {
    const pushed = { message: message("m", { body: "New question" }), conversation: conversation("b", { status: "open" }) };
    const { items, known } = foldMessage(list, pushed, { me: ME, byActivity: true });
    expect(known).toBe(true);
    expect(items.map((i) => i.id)).toEqual(["b", "a", "c"]);
    expect(items[0].last_message_preview).toBe("New question");
    expect(items[0].unread_count).toBe(3);
    expect(items[0].contact_name).toBe("Contact b");
  });

  it("adds nothing unread for the reader's own reply or the open conversation", () => {
    const mine = { message: message("m", { sender_type: "agent", sender_id: ME, direction: "outbound" }), conversation: conversation("b") };
    expect(foldMessage(list, mine, { me: ME, byActivity: true }).items[0].unread_count).toBe(2);
    const other = { message: message("n"), conversation: conversation("c") };
    expect(foldMessage(list, other, { me: ME, openId: "c", byActivity: true }).items[0].unread_count).toBe(0);
  });

  it("leaves the order alone for a private note or another sort", () => {
    const note = { message: message("m", { private: true, direction: "outbound", sender_type: "agent" }), conversation: conversation("c") };
    expect(foldMessage(list, note, { me: ME, byActivity: true }).items.map((i) => i.id)).toEqual(["a", "b", "c"]);
    const plain = { message: message("m"), conversation: conversation("c") };
    expect(foldMessage(list, plain, { me: ME, byActivity: false }).items.map((i) => i.id)).toEqual(["a", "b", "c"]);
  });

  it("says when the conversation is not in the list", () => {
    const pushed = { message: message("m"), conversation: conversation("z") };
    expect(foldMessage(list, pushed, { me: ME, byActivity: true })).toEqual({ items: list, known: false });
  });
});

describe("a changed conversation in the list", () => {
  it("takes the new fields and keeps the list's own", () => {
    const items = foldConversation([item("a", { unread_count: 4 })], conversation("a", { status: "assigned", assignee_id: ME }), ["open", "assigned"]);
    expect(items[0]).toMatchObject({ status: "assigned", assignee_id: ME, unread_count: 4, contact_name: "Contact a" });
  });

  it("drops one whose status the list does not show", () => {
    expect(foldConversation([item("a"), item("b")], conversation("a", { status: "resolved" }), ["open"]).map((i) => i.id)).toEqual(["b"]);
  });
});

describe("the thread's words", () => {
  const agents = [{ user_id: "u2", name: "Grace", email: "g@x", status: "online" }];
  it("names the sender", () => {
    const context = { contactName: "Ada", agents, me: ME };
    expect(senderName(message("a"), context)).toBe("Ada");
    expect(senderName(message("a", { sender_type: "agent", sender_id: ME }), context)).toBe("You");
    expect(senderName(message("a", { sender_type: "agent", sender_id: "u2" }), context)).toBe("Grace");
    expect(senderName(message("a", { sender_type: "system" }), context)).toBe("System");
    expect(senderName(message("a", { sender_type: "automation" }), context)).toBe("Automation");
  });

  it("tells delivery only for public outbound messages", () => {
    expect(deliveryLabel(message("a"))).toBeNull();
    expect(deliveryLabel(message("a", { direction: "outbound", delivery_status: "queued" }))).toBe("Queued");
    expect(deliveryLabel(message("a", { direction: "outbound", private: true }))).toBeNull();
    expect(deliveryLabel(message("a", { direction: "outbound", delivery_status: "failed", failure_reason: "bounced" }))).toBe("Failed: bounced");
  });
});

describe("status actions follow the lifecycle", () => {
  const labels = (status: Conversation["status"], assignee_id: string | null = null) =>
    statusActions({ status, assignee_id }).map((a) => `${a.label}:${a.status}`);

  it("offers resolve and pending while being worked", () => {
    expect(labels("open")).toEqual(["Resolve:resolved", "Mark pending:pending"]);
    expect(labels("pending", ME)).toEqual(["Resolve:resolved", "Reopen:assigned"]);
  });

  it("offers reopen and close once resolved, nothing once closed", () => {
    expect(labels("resolved", ME)).toEqual(["Reopen:open", "Close:closed"]);
    expect(labels("closed")).toEqual([]);
  });
});

describe("TypingSignal", () => {
  it("announces typing at most every interval and stopping once", () => {
    const signal = new TypingSignal(2000);
    expect(signal.stop()).toBe(false);
    expect(signal.input(0)).toBe(true);
    expect(signal.input(500)).toBe(false);
    expect(signal.input(2100)).toBe(true);
    expect(signal.stop()).toBe(true);
    expect(signal.stop()).toBe(false);
    expect(signal.input(2200)).toBe(true);
  });
});
