/** The message templates, rendered with the open conversation's data for the composer. */

import { Button, Loader, Menu, Text } from "@mantine/core";
import { useState } from "react";
import { api, type Page } from "../../api/client";
import { ApiError } from "../../api/errors";
import { useAccount } from "../../lib/account";
import type { Template } from "./types";

export function TemplatesMenu({
  conversationId,
  onChoose,
  onError,
  disabled,
}: {
  conversationId: string;
  onChoose: (body: string) => void;
  onError: (error: ApiError | null) => void;
  disabled?: boolean;
}) {
  const { url } = useAccount();
  const [templates, setTemplates] = useState<Template[] | null>(null);
  const [failed, setFailed] = useState(false);
  const [busy, setBusy] = useState(false);

  const load = () => {
    if (templates) return;
    setFailed(false);
    api
      .get<Page<Template>>(url("/templates"), { per_page: 100 })
      .then((page) => setTemplates(page.items))
      .catch(() => setFailed(true));
  };

  const choose = async (template: Template) => {
    setBusy(true);
    onError(null);
    try {
      const rendered = await api.post<{ body: string }>(url(`/templates/${template.id}/preview`), { conversation_id: conversationId });
      onChoose(rendered.body);
    } catch (caught) {
      onError(caught instanceof ApiError ? caught : new ApiError(-1, null, (caught as Error).message));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Menu position="top-start" onOpen={load} withinPortal>
      <Menu.Target>
        <Button variant="default" size="xs" loading={busy} disabled={disabled}>
          Templates
        </Button>
      </Menu.Target>
      <Menu.Dropdown>
        {failed ? (
          <Menu.Item onClick={() => { setFailed(false); load(); }}>Templates could not be loaded: try again</Menu.Item>
        ) : templates === null ? (
          <Menu.Label>
            <Loader size="xs" aria-label="Loading templates" />
          </Menu.Label>
        ) : templates.length === 0 ? (
          <Menu.Label>No templates yet</Menu.Label>
        ) : (
          templates.map((template) => (
            <Menu.Item key={template.id} onClick={() => void choose(template)}>
              <Text size="sm">{template.name}</Text>
            </Menu.Item>
          ))
        )}
      </Menu.Dropdown>
    </Menu>
  );
}
