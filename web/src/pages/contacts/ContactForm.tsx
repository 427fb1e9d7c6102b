/**
 * `/a/<account>/contacts/new` and `/a/<account>/contacts/<id>/edit`: the contact's fields
 * and each custom field of the account, the API's messages next to the fields they concern
 * (`custom_fields.<key>` too), and a duplicate's message with a link to the contact that
 * already has the email or phone.
 */

import { Alert, Anchor, Button, Group, Paper, SimpleGrid, Stack, TextInput, Title } from "@mantine/core";
import { useState, type FormEvent } from "react";
import { Link, useNavigate, useParams } from "react-router-dom";
import { api } from "../../api/client";
import { useAccount } from "../../lib/account";
import { FormError } from "../../lib/FormError";
import { Status } from "../../lib/Status";
import { useResource } from "../../lib/useResource";
import { useSubmit } from "../../lib/useSubmit";
import { CustomFieldInput } from "./CustomFieldInput";
import { useCustomFields } from "./data";
import { contactBody, initialValues, type FormValues } from "./form";
import type { Contact, CustomField } from "./types";

export function ContactForm() {
  const { contactId } = useParams();
  const { account, url } = useAccount();
  const contact = useResource(
    (signal) => (contactId ? api.get<Contact>(url(`/contacts/${contactId}`), undefined, signal) : Promise.resolve(null)),
    [account.id, contactId],
  );
  const definitions = useCustomFields();
  const ready = contact.data !== undefined && definitions.data !== undefined;
  return (
    <Stack maw={720}>
      <Title order={1} size="h2">
        {contactId ? `Edit ${contact.data?.name ?? "contact"}` : "New contact"}
      </Title>
      <Status ready={ready} error={contact.error ?? definitions.error} retry={() => void (contact.reload(), definitions.reload())}>
        {ready && <Editor key={contactId ?? "new"} contact={contact.data ?? null} definitions={definitions.data ?? []} />}
      </Status>
    </Stack>
  );
}

function Editor({ contact, definitions }: { contact: Contact | null; definitions: CustomField[] }) {
  const { url, base } = useAccount();
  const navigate = useNavigate();
  const [initial] = useState(() => initialValues(contact, definitions));
  const [values, setValues] = useState<FormValues>(initial);
  const set = (change: Partial<FormValues>) => setValues((old) => ({ ...old, ...change }));

  const save = useSubmit(async () => {
    const body = contactBody(values, definitions, contact ? initial : undefined);
    let saved: Contact | null = contact;
    if (!contact) saved = await api.post<Contact>(url("/contacts"), body);
    else if (Object.keys(body).length) saved = await api.patch<Contact>(url(`/contacts/${contact.id}`), body);
    navigate(`${base}/contacts/${saved!.id}`);
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    void save.run();
  };
  const error = save.error;
  const duplicateOf = (error?.body as { duplicate_of?: string } | null)?.duplicate_of;
  const fieldError = (name: string) => error?.field(name);
  const back = contact ? `${base}/contacts/${contact.id}` : `${base}/contacts`;

  return (
    <form onSubmit={submit} noValidate aria-label={contact ? "Edit contact" : "New contact"}>
      <Stack>
        {duplicateOf ? (
          <Alert color="red" role="alert" title="Not saved">
            {error?.message}{" "}
            <Anchor component={Link} to={`${base}/contacts/${duplicateOf}`}>
              Open the existing contact
            </Anchor>
          </Alert>
        ) : (
          <FormError error={error} />
        )}
        <Paper withBorder p="md">
          <SimpleGrid cols={{ base: 1, sm: 2 }}>
            <TextInput label="Name" required autoComplete="off" value={values.name} onChange={(e) => set({ name: e.currentTarget.value })} error={fieldError("name")} />
            <TextInput label="Email" type="email" autoComplete="off" value={values.email} onChange={(e) => set({ email: e.currentTarget.value })} error={fieldError("email")} />
            <TextInput
              label="Phone"
              type="tel"
              autoComplete="off"
              description="With + and the country code, or a number of your account's country"
              value={values.phone}
              onChange={(e) => set({ phone: e.currentTarget.value })}
              error={fieldError("phone")}
            />
            <TextInput label="Company" autoComplete="off" value={values.company} onChange={(e) => set({ company: e.currentTarget.value })} error={fieldError("company")} />
          </SimpleGrid>
        </Paper>
        {definitions.length > 0 && (
          <Paper withBorder p="md" component="fieldset" style={{ margin: 0 }}>
            <Title order={2} size="h4" component="legend" px={4}>
              Custom fields
            </Title>
            <SimpleGrid cols={{ base: 1, sm: 2 }}>
              {definitions.map((definition) => (
                <CustomFieldInput
                  key={definition.key}
                  definition={definition}
                  value={values.custom[definition.key] ?? null}
                  error={fieldError(`custom_fields.${definition.key}`)}
                  onChange={(value) => setValues((old) => ({ ...old, custom: { ...old.custom, [definition.key]: value } }))}
                />
              ))}
            </SimpleGrid>
          </Paper>
        )}
        {fieldError("custom_fields") && (
          <Alert color="red" variant="light">
            {fieldError("custom_fields")}
          </Alert>
        )}
        <Group>
          <Button type="submit" loading={save.busy}>
            {contact ? "Save changes" : "Create contact"}
          </Button>
          <Button variant="default" component={Link} to={back}>
            Cancel
          </Button>
        </Group>
      </Stack>
    </form>
  );
}
