/** Message templates: reusable messages (subject and body) with variables, and a preview. */

import { Button, Code, Group, Stack, Table, Text, Textarea, TextInput } from "@mantine/core";
import { useState, type FormEvent } from "react";
import { api, type Page } from "../../../api/client";
import { useAccount } from "../../../lib/account";
import { FormError } from "../../../lib/FormError";
import { Status } from "../../../lib/Status";
import { useResource } from "../../../lib/useResource";
import { useSubmit } from "../../../lib/useSubmit";
import { ConfirmButton, FormActions, FormModal, PageTitle, saved } from "../ui";

interface Template {
  id: string;
  name: string;
  subject: string | null;
  body: string;
  variables: string[];
}

export const VARIABLES = ["contact.name", "contact.email", "contact.company", "agent.name", "account.name", "conversation.subject", "conversation.id"];

export function Templates() {
  const { account, url, can } = useAccount();
  const list = useResource((signal) => api.get<Page<Template>>(url("/templates"), { per_page: 100 }, signal), [account.id]);
  const [editing, setEditing] = useState<Template | "new" | null>(null);
  const [previewing, setPreviewing] = useState<Template | null>(null);
  const manage = can("replies:manage");
  return (
    <>
      <PageTitle title="Message templates" description="Reusable messages; variables are filled in with the conversation's data." />
      <Stack>
        {manage && (
          <Group>
            <Button onClick={() => setEditing("new")}>New template</Button>
          </Group>
        )}
        <Status ready={list.data !== undefined} error={list.error} retry={list.reload}>
          {list.data?.items.length === 0 ? (
            <Text c="dimmed">No templates yet.</Text>
          ) : (
            <Table.ScrollContainer minWidth={520}>
              <Table verticalSpacing="sm">
                <Table.Thead>
                  <Table.Tr>
                    <Table.Th>Name</Table.Th>
                    <Table.Th>Subject</Table.Th>
                    <Table.Th>Actions</Table.Th>
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {list.data?.items.map((template) => (
                    <Table.Tr key={template.id}>
                      <Table.Td>{template.name}</Table.Td>
                      <Table.Td>{template.subject ?? "—"}</Table.Td>
                      <Table.Td>
                        <Group gap="xs" wrap="nowrap">
                          <Button size="xs" variant="light" onClick={() => setPreviewing(template)} aria-label={`Preview ${template.name}`}>
                            Preview
                          </Button>
                          {manage && (
                            <>
                              <Button size="xs" variant="light" onClick={() => setEditing(template)} aria-label={`Edit ${template.name}`}>
                                Edit
                              </Button>
                              <ConfirmButton
                                label="Delete"
                                ariaLabel={`Delete ${template.name}`}
                                title={`Delete the template ${template.name}?`}
                                confirmLabel="Delete template"
                                onConfirm={async () => {
                                  await api.delete(url(`/templates/${template.id}`));
                                  saved(`The template ${template.name} is deleted.`);
                                  await list.reload();
                                }}
                              >
                                Automation rules that send it will fail to.
                              </ConfirmButton>
                            </>
                          )}
                        </Group>
                      </Table.Td>
                    </Table.Tr>
                  ))}
                </Table.Tbody>
              </Table>
            </Table.ScrollContainer>
          )}
        </Status>
      </Stack>
      <FormModal opened={editing !== null} onClose={() => setEditing(null)} title={editing === "new" ? "New template" : "Edit template"}>
        {editing !== null && (
          <TemplateForm
            template={editing === "new" ? null : editing}
            onSaved={(template) => {
              saved(`The template ${template.name} is saved.`);
              setEditing(null);
              void list.reload();
            }}
            onCancel={() => setEditing(null)}
          />
        )}
      </FormModal>
      <FormModal opened={previewing !== null} onClose={() => setPreviewing(null)} title={`Preview of ${previewing?.name ?? ""}`}>
        {previewing && <Preview template={previewing} />}
      </FormModal>
    </>
  );
}

function Preview({ template }: { template: Template }) {
  const { url } = useAccount();
  const preview = useResource(() => api.post<{ subject: string | null; body: string }>(url(`/templates/${template.id}/preview`), {}), [template.id]);
  return (
    <Status ready={preview.data !== undefined} error={preview.error} retry={preview.reload}>
      <Stack>
        <Text size="sm" c="dimmed">
          With sample values.
        </Text>
        {preview.data?.subject && (
          <Text fw={600}>
            Subject: {preview.data.subject}
          </Text>
        )}
        <Text style={{ whiteSpace: "pre-wrap" }}>{preview.data?.body}</Text>
      </Stack>
    </Status>
  );
}

function TemplateForm({ template, onSaved, onCancel }: { template: Template | null; onSaved: (t: Template) => void; onCancel: () => void }) {
  const { url } = useAccount();
  const [form, setForm] = useState({ name: template?.name ?? "", subject: template?.subject ?? "", body: template?.body ?? "" });
  const save = useSubmit(async () => {
    const body = { ...form, subject: form.subject || null };
    onSaved(template ? await api.patch<Template>(url(`/templates/${template.id}`), body) : await api.post<Template>(url("/templates"), body));
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    void save.run();
  };
  return (
    <form onSubmit={submit} noValidate>
      <Stack>
        <FormError error={save.error} />
        <TextInput label="Name" required value={form.name} onChange={(e) => setForm({ ...form, name: e.currentTarget.value })} error={save.error?.field("name")} data-autofocus />
        <TextInput label="Subject" description="For email; optional" value={form.subject} onChange={(e) => setForm({ ...form, subject: e.currentTarget.value })} error={save.error?.field("subject")} />
        <Textarea
          label="Message"
          required
          autosize
          minRows={6}
          value={form.body}
          onChange={(e) => setForm({ ...form, body: e.currentTarget.value })}
          error={save.error?.field("body")}
        />
        <Text size="xs" c="dimmed">
          Variables:{" "}
          {VARIABLES.map((v) => (
            <Code key={v} mr={4}>{`{{ ${v} }}`}</Code>
          ))}
        </Text>
        <FormActions onCancel={onCancel} busy={save.busy} save="Save template" />
      </Stack>
    </form>
  );
}
