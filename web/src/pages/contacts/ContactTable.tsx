/**
 * A page of contacts: a table whose column headers sort it (their direction told by
 * aria-sort) on wide screens, and cards with a sort menu on a phone.
 */

import { Anchor, Badge, Card, Group, Select, Stack, Table, Text, UnstyledButton } from "@mantine/core";
import { useMediaQuery } from "@mantine/hooks";
import { Link } from "react-router-dom";
import { formatDateTime } from "./data";
import { nextSort, sortDirection } from "./query";
import type { ListedContact } from "./types";

const COLUMNS: { field: string | null; label: string }[] = [
  { field: "name", label: "Name" },
  { field: "email", label: "Email" },
  { field: "phone", label: "Phone" },
  { field: "company", label: "Company" },
  { field: null, label: "Tags" },
  { field: "updated_at", label: "Updated" },
];

interface Props {
  contacts: ListedContact[];
  sort: string | null;
  onSort: (sort: string | null) => void;
  base: string;
}

export function ContactTable(props: Props) {
  const wide = useMediaQuery("(min-width: 48em)", true, { getInitialValueInEffect: false });
  return wide ? <Wide {...props} /> : <Narrow {...props} />;
}

function Wide({ contacts, sort, onSort, base }: Props) {
  return (
    <Table.ScrollContainer minWidth={760}>
      <Table striped highlightOnHover>
        <Table.Thead>
          <Table.Tr>
            {COLUMNS.map((column) => {
              const direction = column.field ? sortDirection(sort, column.field) : undefined;
              return (
                <Table.Th key={column.label} aria-sort={direction}>
                  {column.field ? (
                    <UnstyledButton onClick={() => onSort(nextSort(sort, column.field!))} fw={700} fz="sm">
                      {column.label}
                      <span aria-hidden="true">{direction === "ascending" ? " ▲" : direction === "descending" ? " ▼" : ""}</span>
                    </UnstyledButton>
                  ) : (
                    column.label
                  )}
                </Table.Th>
              );
            })}
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {contacts.map((contact) => (
            <Table.Tr key={contact.id}>
              <Table.Td>
                <Anchor component={Link} to={`${base}/contacts/${contact.id}`} fw={500}>
                  {contact.name}
                </Anchor>
              </Table.Td>
              <Table.Td>{contact.email ?? ""}</Table.Td>
              <Table.Td>{contact.phone ?? ""}</Table.Td>
              <Table.Td>{contact.company ?? ""}</Table.Td>
              <Table.Td>
                <Tags names={contact.tags} />
              </Table.Td>
              <Table.Td>
                <time dateTime={contact.updated_at}>{formatDateTime(contact.updated_at)}</time>
              </Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}

const SORTS = COLUMNS.filter((c) => c.field).flatMap((c) => [
  { value: c.field!, label: `${c.label}, ascending` },
  { value: `-${c.field}`, label: `${c.label}, descending` },
]);

function Narrow({ contacts, sort, onSort, base }: Props) {
  return (
    <Stack gap="sm">
      <Select label="Sort by" data={SORTS} value={sort} onChange={onSort} placeholder="Newest first" clearable />
      <Stack gap="xs" component="ul" style={{ listStyle: "none", padding: 0, margin: 0 }} aria-label="Contacts">
        {contacts.map((contact) => (
          <Card key={contact.id} component="li" withBorder padding="sm">
            <Anchor component={Link} to={`${base}/contacts/${contact.id}`} fw={600}>
              {contact.name}
            </Anchor>
            {[contact.email, contact.phone, contact.company].filter(Boolean).map((line) => (
              <Text key={line} size="sm" style={{ overflowWrap: "anywhere" }}>
                {line}
              </Text>
            ))}
            <Group justify="space-between" mt={4} gap="xs">
              <Tags names={contact.tags} />
              <Text size="xs" c="dimmed">
                Updated <time dateTime={contact.updated_at}>{formatDateTime(contact.updated_at)}</time>
              </Text>
            </Group>
          </Card>
        ))}
      </Stack>
    </Stack>
  );
}

function Tags({ names }: { names?: string[] }) {
  if (!names?.length) return null;
  return (
    <Group gap={4}>
      {names.map((name) => (
        <Badge key={name} variant="light" size="sm" tt="none">
          {name}
        </Badge>
      ))}
    </Group>
  );
}
