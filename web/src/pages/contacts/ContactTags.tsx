/** A contact's tags: each removable, and a name to add (a new name becomes a tag). */

import { ActionIcon, Badge, Button, Group, Paper, Text, TextInput, Title } from "@mantine/core";
import { useState, type FormEvent } from "react";
import { api } from "../../api/client";
import { useAccount } from "../../lib/account";
import { FormError } from "../../lib/FormError";
import { Status } from "../../lib/Status";
import { useResource } from "../../lib/useResource";
import { useSubmit } from "../../lib/useSubmit";

export function ContactTags({ contactId }: { contactId: string }) {
  const { account, url, can } = useAccount();
  const path = url(`/contacts/${contactId}/tags`);
  const tags = useResource((signal) => api.get<{ tags: string[] }>(path, undefined, signal).then((a) => a.tags), [account.id, contactId]);
  const [name, setName] = useState("");
  const writable = can("contacts:write");

  const add = useSubmit(async () => {
    const answer = await api.post<{ tags: string[] }>(path, { tags: [name.trim()] });
    tags.setData(answer.tags);
    setName("");
  });
  const remove = useSubmit(async (tag: string) => {
    await api.delete(`${path}/${encodeURIComponent(tag)}`);
    tags.setData((old) => (old ?? []).filter((t) => t !== tag));
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (name.trim()) void add.run();
  };

  return (
    <Paper withBorder p="md" component="section" aria-labelledby="contact-tags">
      <Title order={2} size="h4" id="contact-tags" mb="sm">
        Tags
      </Title>
      <Status ready={tags.data !== undefined} error={tags.error} retry={tags.reload}>
        <FormError error={remove.error} />
        <Group gap="xs" mb="sm" component="ul" style={{ listStyle: "none", padding: 0, margin: 0 }} aria-label="Tags">
          {(tags.data ?? []).map((tag) => (
            <li key={tag}>
              <Badge
                variant="light"
                tt="none"
                size="lg"
                rightSection={
                  writable && (
                    <ActionIcon size="xs" variant="transparent" aria-label={`Remove tag ${tag}`} onClick={() => void remove.run(tag)} disabled={remove.busy}>
                      <span aria-hidden="true">✕</span>
                    </ActionIcon>
                  )
                }
              >
                {tag}
              </Badge>
            </li>
          ))}
        </Group>
        {tags.data?.length === 0 && (
          <Text size="sm" c="dimmed" mb="sm">
            No tags.
          </Text>
        )}
        {writable && (
          <form onSubmit={submit} noValidate>
            <Group align="flex-start" gap="xs">
              <TextInput
                aria-label="New tag"
                placeholder="Tag name"
                value={name}
                onChange={(event) => setName(event.currentTarget.value)}
                error={add.error ? (add.error.field("tags") ?? add.error.field("tags.0") ?? add.error.message) : undefined}
                style={{ flex: 1 }}
              />
              <Button type="submit" variant="default" loading={add.busy}>
                Add tag
              </Button>
            </Group>
          </form>
        )}
      </Status>
    </Paper>
  );
}
