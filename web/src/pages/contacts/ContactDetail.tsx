/**
 * `/a/<account>/contacts/<id>`: the contact's fields and custom fields, its tags, its
 * conversations and its activity (the audit log), kept current by the contact pushes.
 */

import { Alert, Anchor, Button, Group, Paper, SimpleGrid, Stack, Text, Title } from "@mantine/core";
import { useState } from "react";
import { Link, useParams } from "react-router-dom";
import { api } from "../../api/client";
import { ApiError } from "../../api/errors";
import { useCrumbName } from "../../shell/crumbNames";
import { useAccount } from "../../lib/account";
import { Status } from "../../lib/Status";
import { useResource } from "../../lib/useResource";
import { formatValue } from "./activity";
import { ContactActivity } from "./ContactActivity";
import { ContactConversations } from "./ContactConversations";
import { ContactTags } from "./ContactTags";
import { formatDateTime, useContactPushes, useCustomFields } from "./data";
import { DeleteContact } from "./DeleteContact";
import type { Contact, CustomField } from "./types";

export function ContactDetail() {
  const { contactId = "" } = useParams();
  const { account, url, base, can } = useAccount();
  const contact = useResource((signal) => api.get<Contact>(url(`/contacts/${contactId}`), undefined, signal), [account.id, contactId]);
  const definitions = useCustomFields();
  const [gone, setGone] = useState<{ mergedInto?: string } | null>(null);
  const [changes, setChanges] = useState(0);
  useCrumbName(contactId, contact.data?.name);
  useContactPushes((event, data) => {
    if (event === "contact.deleted" && data?.contact_id === contactId) setGone((old) => old ?? {});
    else if (event === "contact.merged" && data?.details?.source_id === contactId) setGone({ mergedInto: data.details.target_id });
    else if (data?.contact?.id === contactId) {
      contact.setData(data.contact);
      setChanges((n) => n + 1);
    }
  });

  const mergedInto = gone?.mergedInto ?? ((contact.error as ApiError | null)?.body as { merged_into?: string } | null)?.merged_into;
  if (mergedInto) {
    return (
      <Alert color="blue" title="Merged" role="status">
        This contact was merged into another one.{" "}
        <Anchor component={Link} to={`${base}/contacts/${mergedInto}`}>
          Open the contact it was merged into
        </Anchor>
      </Alert>
    );
  }
  if (gone) {
    return (
      <Alert color="orange" title="Deleted" role="status">
        This contact was just deleted.{" "}
        <Anchor component={Link} to={`${base}/contacts`}>
          Back to the contacts
        </Anchor>
      </Alert>
    );
  }
  const data = contact.data;
  return (
    <Status ready={data !== undefined} error={contact.error} retry={contact.reload}>
      {data && (
        <Stack>
          <Group justify="space-between" align="flex-start">
            <Title order={1} size="h2">
              {data.name}
            </Title>
            <Group gap="xs">
              {can("contacts:write") && (
                <Button component={Link} to={`${base}/contacts/${data.id}/edit`} variant="default">
                  Edit
                </Button>
              )}
              {can("contacts:delete") && <DeleteContact contact={data} />}
            </Group>
          </Group>
          <SimpleGrid cols={{ base: 1, md: 2 }} spacing="md">
            <Stack>
              <Facts contact={data} definitions={definitions.data ?? []} />
              <ContactTags contactId={data.id} />
            </Stack>
            <Stack>
              <ContactConversations contactId={data.id} />
              <ContactActivity contactId={data.id} changes={changes} definitions={definitions.data ?? []} />
            </Stack>
          </SimpleGrid>
        </Stack>
      )}
    </Status>
  );
}

function Facts({ contact, definitions }: { contact: Contact; definitions: CustomField[] }) {
  const facts: [string, string][] = [
    ["Email", formatValue(contact.email)],
    ["Phone", formatValue(contact.phone)],
    ["Company", formatValue(contact.company)],
    ...definitions.map((d): [string, string] => [d.label, formatValue(contact.custom_fields[d.key])]),
    ["Created", formatDateTime(contact.created_at)],
    ["Updated", formatDateTime(contact.updated_at)],
  ];
  return (
    <Paper withBorder p="md" component="section" aria-labelledby="contact-details">
      <Title order={2} size="h4" id="contact-details" mb="sm">
        Details
      </Title>
      <dl style={{ margin: 0 }}>
        {facts.map(([label, value]) => (
          <Group key={label} gap="xs" wrap="nowrap" align="baseline" py={4}>
            <Text component="dt" size="sm" c="dimmed" w={120} style={{ flexShrink: 0 }}>
              {label}
            </Text>
            <Text component="dd" size="sm" m={0} style={{ overflowWrap: "anywhere" }}>
              {value}
            </Text>
          </Group>
        ))}
      </dl>
    </Paper>
  );
}
