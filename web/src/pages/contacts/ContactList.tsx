/**
 * `/a/<account>/contacts`: search, filters, a segment, sorting and paging, all kept in the
 * URL (so back/forward and reload keep them), refreshed by the contact pushes.
 */

import { Alert, Badge, Button, Collapse, Group, Pagination, Paper, Select, Stack, Text, TextInput, Title } from "@mantine/core";
import { useDebouncedCallback, useThrottledCallback } from "@mantine/hooks";
import { useEffect, useMemo, useRef, useState } from "react";
import { Link, useSearchParams } from "react-router-dom";
import { api, type Page } from "../../api/client";
import { describe } from "../../api/errors";
import { useAccount } from "../../lib/account";
import { Status } from "../../lib/Status";
import { useResource } from "../../lib/useResource";
import { ContactTable } from "./ContactTable";
import { useContactPushes, useCustomFields } from "./data";
import { listFields } from "./fields";
import { FilterEditor } from "./FilterEditor";
import { apiQuery, isNarrowed, PAGE_SIZES, paramsFromState, stateFromParams, type ListState } from "./query";
import type { ListedContact, Segment } from "./types";

export function ContactList() {
  const { account, url, base, can } = useAccount();
  const [params, setParams] = useSearchParams();
  const key = params.toString();
  const state = useMemo(() => stateFromParams(new URLSearchParams(key)), [key]);
  const go = (change: Partial<ListState>) => setParams(paramsFromState({ ...state, page: 1, ...change }));

  const contacts = useResource((signal) => api.get<Page<ListedContact>>(url("/contacts"), apiQuery(state), signal), [account.id, key]);
  const definitions = useCustomFields();
  const segments = useResource((signal) => api.get<{ items: Segment[] }>(url("/segments"), undefined, signal).then((a) => a.items), [account.id]);
  // At most one reload a second however many contacts change (an import creates thousands).
  const refresh = useThrottledCallback(() => void contacts.reload(), 1000);
  useContactPushes(() => refresh());
  const fields = useMemo(() => listFields(definitions.data ?? []), [definitions.data]);
  const [filtersOpen, setFiltersOpen] = useState(state.filters.length > 0);

  const page = contacts.data;
  return (
    <Stack>
      <Group justify="space-between">
        <Title order={1} size="h2">
          Contacts
        </Title>
        {can("contacts:write") && (
          <Button component={Link} to={`${base}/contacts/new`}>
            New contact
          </Button>
        )}
      </Group>
      <Group align="flex-end" gap="sm">
        <SearchBox value={state.q} onSearch={(q) => go({ q })} />
        <Select
          label="Segment"
          placeholder="All contacts"
          data={(segments.data ?? []).map((s) => ({ value: s.id, label: s.contact_count === null ? `${s.name} (broken)` : `${s.name} (${s.contact_count})` }))}
          value={state.segment}
          onChange={(segment) => go({ segment })}
          clearable
          w={{ base: "100%", xs: 220 }}
          nothingFoundMessage="No segments yet"
        />
        <Button variant="default" onClick={() => setFiltersOpen((open) => !open)} aria-expanded={filtersOpen} aria-controls="contact-filters">
          Filters
          {state.filters.length > 0 && (
            <Badge ml={6} size="sm" circle aria-label={`${state.filters.length} applied`}>
              {state.filters.length}
            </Badge>
          )}
        </Button>
      </Group>
      <Collapse expanded={filtersOpen} id="contact-filters">
        <Paper withBorder p="sm">
          <FilterEditor fields={fields} applied={state.filters} onApply={(filters) => go({ filters })} />
        </Paper>
      </Collapse>
      <Listed state={state} page={page} error={contacts.error} loading={contacts.loading} retry={contacts.reload} onClear={() => setParams(new URLSearchParams())}>
        {page && (
          <>
            <ContactTable contacts={page.items} sort={state.sort} onSort={(sort) => go({ sort })} base={base} />
            <Group justify="space-between" gap="sm">
              <Text size="sm" c="dimmed" aria-live="polite">
                {page.meta.total === 1 ? "1 contact" : `${page.meta.total} contacts`}
              </Text>
              <Group gap="sm">
                {page.meta.pages > 1 && (
                  <Pagination
                    total={page.meta.pages}
                    value={state.page}
                    onChange={(n) => go({ page: n })}
                    size="sm"
                    siblings={0}
                    getControlProps={(control) => ({ "aria-label": `${control} page` })}
                    getItemProps={(n) => ({ "aria-label": `Page ${n}` })}
                  />
                )}
                <Select
                  aria-label="Contacts per page"
                  data={PAGE_SIZES.map((n) => ({ value: String(n), label: `${n} per page` }))}
                  value={String(state.perPage)}
                  onChange={(n) => n && go({ perPage: Number(n) })}
                  allowDeselect={false}
                  w={150}
                  size="sm"
                />
              </Group>
            </Group>
          </>
        )}
      </Listed>
    </Stack>
  );
}

/** Typing searches after a pause; Enter searches at once. Back/forward bring their text back. */
function SearchBox({ value, onSearch }: { value: string; onSearch: (q: string) => void }) {
  const [text, setText] = useState(value);
  const sent = useRef(value);
  useEffect(() => {
    if (value !== sent.current) {
      sent.current = value;
      setText(value);
    }
  }, [value]);
  const send = (q: string) => {
    if (q.trim() === sent.current.trim()) return;
    sent.current = q.trim();
    onSearch(q.trim());
  };
  const later = useDebouncedCallback(send, 400);
  return (
    <TextInput
      label="Search"
      description="Words in a name, email or company, or phone digits"
      type="search"
      value={text}
      onChange={(event) => {
        setText(event.currentTarget.value);
        later(event.currentTarget.value);
      }}
      onKeyDown={(event) => event.key === "Enter" && send(text)}
      w={{ base: "100%", xs: 320 }}
    />
  );
}

/** The list's loading, error and empty states around its content. */
function Listed({
  state,
  page,
  error,
  loading,
  retry,
  onClear,
  children,
}: {
  state: ListState;
  page?: Page<ListedContact>;
  error: unknown;
  loading: boolean;
  retry: () => void;
  onClear: () => void;
  children: React.ReactNode;
}) {
  if (error) {
    return (
      <Alert color="red" role="alert" title="Could not list the contacts">
        {describe(error)}
        <Group mt="sm" gap="xs">
          <Button variant="light" color="red" size="xs" onClick={retry}>
            Try again
          </Button>
          {isNarrowed(state) && (
            <Button variant="light" size="xs" onClick={onClear}>
              Clear search and filters
            </Button>
          )}
        </Group>
      </Alert>
    );
  }
  if (!page) return <Status ready={false} error={null}>{null}</Status>;
  if (page.meta.total === 0) {
    return (
      <Paper withBorder p="xl" ta="center" aria-busy={loading}>
        {isNarrowed(state) ? (
          <Stack align="center" gap="xs">
            <Text fw={600}>No contacts match.</Text>
            <Button variant="light" onClick={onClear}>
              Clear search and filters
            </Button>
          </Stack>
        ) : (
          <Text fw={600}>No contacts yet.</Text>
        )}
      </Paper>
    );
  }
  return <Stack aria-busy={loading}>{children}</Stack>;
}
