/** Canned responses: replies agents insert by typing their short code. */

import { Button, Group, Pagination, Stack, Table, Text, Textarea, TextInput } from "@mantine/core";
import { useDebouncedValue } from "@mantine/hooks";
import { useState, type FormEvent } from "react";
import { api, type Page } from "../../../api/client";
import { useAccount } from "../../../lib/account";
import { FormError } from "../../../lib/FormError";
import { Status } from "../../../lib/Status";
import { useResource } from "../../../lib/useResource";
import { useSubmit } from "../../../lib/useSubmit";
import { ConfirmButton, FormActions, FormModal, PageTitle, saved } from "../ui";

interface Canned {
  id: string;
  short_code: string;
  title: string;
  body: string;
}

export function CannedResponses() {
  const { account, url, can } = useAccount();
  const [search, setSearch] = useState("");
  const [query] = useDebouncedValue(search.trim(), 250);
  const [page, setPage] = useState(1);
  const list = useResource(
    (signal) =>
      api.get<Page<Canned>>(url("/canned-responses"), { page, per_page: 50, filter: query ? [`short_code:startswith:${query}`] : undefined }, signal),
    [account.id, page, query],
  );
  const [editing, setEditing] = useState<Canned | "new" | null>(null);
  const manage = can("replies:manage");
  return (
    <>
      <PageTitle title="Canned responses" description="Agents type / and the short code in a reply to insert one." />
      <Stack>
        <Group justify="space-between" wrap="wrap">
          <TextInput
            label="Search by short code"
            value={search}
            onChange={(e) => {
              setSearch(e.currentTarget.value);
              setPage(1);
            }}
            w={260}
          />
          {manage && <Button onClick={() => setEditing("new")}>New canned response</Button>}
        </Group>
        <Status ready={list.data !== undefined} error={list.error} retry={list.reload}>
          {list.data?.items.length === 0 ? (
            <Text c="dimmed">{query ? "No canned response starts with that short code." : "No canned responses yet."}</Text>
          ) : (
            <Table.ScrollContainer minWidth={520}>
              <Table verticalSpacing="sm">
                <Table.Thead>
                  <Table.Tr>
                    <Table.Th>Short code</Table.Th>
                    <Table.Th>Title</Table.Th>
                    <Table.Th>Reply</Table.Th>
                    {manage && <Table.Th>Actions</Table.Th>}
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {list.data?.items.map((canned) => (
                    <Table.Tr key={canned.id}>
                      <Table.Td ff="monospace">/{canned.short_code}</Table.Td>
                      <Table.Td>{canned.title}</Table.Td>
                      <Table.Td>
                        <Text size="sm" lineClamp={2}>
                          {canned.body}
                        </Text>
                      </Table.Td>
                      {manage && (
                        <Table.Td>
                          <Group gap="xs" wrap="nowrap">
                            <Button size="xs" variant="light" onClick={() => setEditing(canned)} aria-label={`Edit /${canned.short_code}`}>
                              Edit
                            </Button>
                            <ConfirmButton
                              label="Delete"
                              ariaLabel={`Delete /${canned.short_code}`}
                              title={`Delete /${canned.short_code}?`}
                              confirmLabel="Delete"
                              onConfirm={async () => {
                                await api.delete(url(`/canned-responses/${canned.id}`));
                                saved(`/${canned.short_code} is deleted.`);
                                await list.reload();
                              }}
                            >
                              Agents will no longer be able to insert “{canned.title}”.
                            </ConfirmButton>
                          </Group>
                        </Table.Td>
                      )}
                    </Table.Tr>
                  ))}
                </Table.Tbody>
              </Table>
            </Table.ScrollContainer>
          )}
          {(list.data?.meta.pages ?? 0) > 1 && <Pagination total={list.data!.meta.pages} value={page} onChange={setPage} aria-label="Pages of canned responses" />}
        </Status>
      </Stack>
      <FormModal opened={editing !== null} onClose={() => setEditing(null)} title={editing === "new" ? "New canned response" : "Edit canned response"}>
        {editing !== null && (
          <CannedForm
            canned={editing === "new" ? null : editing}
            onSaved={(canned) => {
              saved(`/${canned.short_code} is saved.`);
              setEditing(null);
              void list.reload();
            }}
            onCancel={() => setEditing(null)}
          />
        )}
      </FormModal>
    </>
  );
}

function CannedForm({ canned, onSaved, onCancel }: { canned: Canned | null; onSaved: (c: Canned) => void; onCancel: () => void }) {
  const { url } = useAccount();
  const [form, setForm] = useState({ short_code: canned?.short_code ?? "", title: canned?.title ?? "", body: canned?.body ?? "" });
  const save = useSubmit(async () => {
    onSaved(canned ? await api.patch<Canned>(url(`/canned-responses/${canned.id}`), form) : await api.post<Canned>(url("/canned-responses"), form));
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    void save.run();
  };
  return (
    <form onSubmit={submit} noValidate>
      <Stack>
        <FormError error={save.error} />
        <TextInput
          label="Short code"
          description="Letters, digits, _ . - only"
          required
          value={form.short_code}
          onChange={(e) => setForm({ ...form, short_code: e.currentTarget.value })}
          error={save.error?.field("short_code")}
          data-autofocus
        />
        <TextInput label="Title" required value={form.title} onChange={(e) => setForm({ ...form, title: e.currentTarget.value })} error={save.error?.field("title")} />
        <Textarea
          label="Reply"
          description="Variables such as {{ contact.name }} are filled in when inserted"
          required
          autosize
          minRows={4}
          value={form.body}
          onChange={(e) => setForm({ ...form, body: e.currentTarget.value })}
          error={save.error?.field("body")}
        />
        <FormActions onCancel={onCancel} busy={save.busy} save="Save" />
      </Stack>
    </form>
  );
}
