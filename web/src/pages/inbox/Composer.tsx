/**
 * The reply box: a text area where `/shortcode` offers the canned responses to insert, a
 * templates menu (rendered with the conversation's data), a private-note switch, and
 * sending with the button or Ctrl/Cmd+Enter. Typing is announced to the others who have
 * the conversation open; the API's refusal is shown here.
 */

import { Button, Combobox, Group, Stack, Switch, Text, Textarea, useCombobox } from "@mantine/core";
import { useCallback, useEffect, useRef, useState } from "react";
import { api, type Page } from "../../api/client";
import { ApiError } from "../../api/errors";
import { FormError } from "../../lib/FormError";
import { useAccount } from "../../lib/account";
import { useResource } from "../../lib/useResource";
import { useSubmit } from "../../lib/useSubmit";
import { useRealtimeStatus } from "../../realtime/RealtimeContext";
import { TypingSignal, insertAt, matchCanned, slashQuery, type SlashQuery } from "./logic";
import { TemplatesMenu } from "./TemplatesMenu";
import type { CannedResponse, Message } from "./types";

/** Say "stopped typing" after this long without a key. */
const IDLE = 3000;

export function Composer({ conversationId, disabled, onSent }: { conversationId: string; disabled?: string; onSent: (message: Message) => void }) {
  const { url, account } = useAccount();
  const { socket } = useRealtimeStatus();
  const [text, setText] = useState("");
  const [note, setNote] = useState(false);
  const [slash, setSlash] = useState<SlashQuery | null>(null);
  const area = useRef<HTMLTextAreaElement>(null);
  const combobox = useCombobox({ onDropdownClose: () => combobox.resetSelectedOption() });
  const canned = useResource(
    (signal) => api.get<Page<CannedResponse>>(url("/canned-responses"), { per_page: 100 }, signal),
    [account.id],
  );
  const matches = slash ? matchCanned(canned.data?.items ?? [], slash.query) : [];
  const firstMatch = matches[0]?.id;
  // The best match is picked, so Enter takes it (the arrows choose another).
  useEffect(() => {
    if (firstMatch) combobox.selectFirstOption();
  }, [firstMatch, slash?.query]);

  // Typing: announced at most every two seconds, its end after a pause, on sending and on leaving.
  const signal = useRef(new TypingSignal());
  const idle = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const stopTyping = useCallback(() => {
    clearTimeout(idle.current);
    if (signal.current.stop()) socket?.emit("typing", { conversation_id: conversationId, on: false });
  }, [socket, conversationId]);
  useEffect(() => stopTyping, [stopTyping]);
  const typed = () => {
    if (signal.current.input(Date.now())) socket?.emit("typing", { conversation_id: conversationId, on: true });
    clearTimeout(idle.current);
    idle.current = setTimeout(stopTyping, IDLE);
  };

  const send = useSubmit(async () => {
    const body = text.trim();
    if (!body) return;
    const message = await api.post<Message>(url(`/conversations/${conversationId}/messages`), {
      direction: "outbound",
      sender_type: "agent",
      body,
      private: note,
    });
    stopTyping();
    setText("");
    onSent(message);
  });

  const follow = (value: string, caret: number) => {
    const found = slashQuery(value, caret);
    setSlash(found);
    if (found) {
      combobox.openDropdown();
      combobox.updateSelectedOptionIndex();
    } else combobox.closeDropdown();
  };

  // The canned response as it would be sent: its variables filled in for this conversation.
  const choose = async (id: string) => {
    const chosen = canned.data?.items.find((c) => c.id === id);
    const caret = area.current?.selectionStart ?? text.length;
    if (!chosen || !slash) return;
    const at = slash;
    try {
      const preview = url(`/canned-responses/${chosen.id}/preview`);
      const rendered = await api.post<{ body: string }>(preview, { conversation_id: conversationId });
      insert(insertAt(text, at, caret, rendered.body));
    } catch (error) {
      send.setError(error instanceof ApiError ? error : new ApiError(-1, null, String(error)));
    }
  };

  const insert = ({ text: next, caret }: { text: string; caret: number }) => {
    setText(next);
    setSlash(null);
    combobox.closeDropdown();
    requestAnimationFrame(() => {
      area.current?.focus();
      area.current?.setSelectionRange(caret, caret);
    });
  };

  const insertTemplate = (body: string) => {
    const caret = area.current?.selectionStart ?? text.length;
    insert(insertAt(text, { start: caret, query: "" }, caret, body));
  };

  const label = note ? "Private note" : "Reply";
  return (
    <Stack gap="xs" component="form" onSubmit={(event) => { event.preventDefault(); void send.run(); }} aria-label="Reply to the conversation">
      <FormError error={send.error} />
      <Combobox store={combobox} onOptionSubmit={(id) => void choose(id)} position="top-start" withinPortal={false}>
        <Combobox.Target>
          <Textarea
            ref={area}
            label={label}
            description={disabled ?? "Type / for canned responses; Ctrl+Enter sends."}
            placeholder={note ? "Only your teammates will see this" : "Write a reply"}
            value={text}
            disabled={Boolean(disabled)}
            autosize
            minRows={2}
            maxRows={8}
            error={send.error?.field("body")}
            styles={note ? { input: { background: "var(--mantine-color-yellow-0)" } } : undefined}
            onChange={(event) => {
              setText(event.currentTarget.value);
              follow(event.currentTarget.value, event.currentTarget.selectionStart);
              typed();
            }}
            onKeyDown={(event) => {
              if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
                event.preventDefault();
                if (!send.busy) void send.run();
              }
            }}
            onBlur={() => {
              stopTyping();
              combobox.closeDropdown();
            }}
          />
        </Combobox.Target>
        <Combobox.Dropdown hidden={!slash}>
          <Combobox.Options aria-label="Canned responses">
            {canned.error ? (
              <Combobox.Empty>Canned responses could not be loaded.</Combobox.Empty>
            ) : matches.length === 0 ? (
              <Combobox.Empty>{canned.data ? "No canned response matches." : "Loading…"}</Combobox.Empty>
            ) : (
              matches.map((c) => (
                <Combobox.Option value={c.id} key={c.id}>
                  <Text size="sm" fw={600}>
                    /{c.short_code}
                  </Text>
                  <Text size="xs" c="inherit" lineClamp={1}>
                    {c.title}
                  </Text>
                </Combobox.Option>
              ))
            )}
          </Combobox.Options>
        </Combobox.Dropdown>
      </Combobox>
      <Group justify="space-between" wrap="wrap" gap="xs">
        <Group gap="sm">
          <Switch label="Private note" checked={note} onChange={(event) => setNote(event.currentTarget.checked)} disabled={Boolean(disabled)} />
          <TemplatesMenu conversationId={conversationId} onChoose={insertTemplate} onError={send.setError} disabled={Boolean(disabled)} />
        </Group>
        <Button type="submit" loading={send.busy} disabled={Boolean(disabled) || !text.trim()}>
          {note ? "Add note" : "Send"}
        </Button>
      </Group>
    </Stack>
  );
}
