import { Button, Group, Stack, Table, Text, TextInput, Title } from "@mantine/core";
import { useState, type FormEvent } from "react";
import { api } from "../../../api/client";
import { useAccount } from "../../../lib/account";
import { FormError } from "../../../lib/FormError";
import { Status } from "../../../lib/Status";
import { useResource } from "../../../lib/useResource";
import { useSubmit } from "../../../lib/useSubmit";
import { ConfirmButton, saved } from "../ui";

interface Holiday {
  id: string;
  name: string;
  date: string;
}

/** Days the business is closed: business-hours SLAs do not count them. */
export function Holidays({ manage }: { manage: boolean }) {
  const { account, url } = useAccount();
  const holidays = useResource((signal) => api.get<{ items: Holiday[] }>(url("/sla/holidays"), undefined, signal), [account.id]);
  const [name, setName] = useState("");
  const [date, setDate] = useState("");
  const add = useSubmit(async () => {
    await api.post(url("/sla/holidays"), { name, date });
    saved(`${name} is added.`);
    setName("");
    setDate("");
    await holidays.reload();
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    void add.run();
  };
  return (
    <section aria-labelledby="holidays-heading">
      <Title order={2} size="h4" mb="sm" id="holidays-heading">
        Holidays
      </Title>
      <Status ready={holidays.data !== undefined} error={holidays.error} retry={holidays.reload}>
        <Stack>
          {holidays.data?.items.length === 0 ? (
            <Text c="dimmed">No holidays.</Text>
          ) : (
            <Table>
              <Table.Tbody>
                {holidays.data?.items.map((holiday) => (
                  <Table.Tr key={holiday.id}>
                    <Table.Td>{new Date(`${holiday.date}T00:00:00`).toLocaleDateString()}</Table.Td>
                    <Table.Td>{holiday.name}</Table.Td>
                    {manage && (
                      <Table.Td>
                        <ConfirmButton
                          label="Delete"
                          ariaLabel={`Delete ${holiday.name}`}
                          title={`Delete ${holiday.name}?`}
                          confirmLabel="Delete holiday"
                          onConfirm={async () => {
                            await api.delete(url(`/sla/holidays/${holiday.id}`));
                            await holidays.reload();
                          }}
                        >
                          Business hours will count {holiday.date} again.
                        </ConfirmButton>
                      </Table.Td>
                    )}
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          )}
          {manage && (
            <form onSubmit={submit} noValidate>
              <Stack gap="xs">
                <FormError error={add.error} />
                <Group align="flex-start" wrap="wrap">
                  <TextInput label="Holiday" required value={name} onChange={(e) => setName(e.currentTarget.value)} error={add.error?.field("name")} w={220} />
                  <TextInput label="Date" type="date" required value={date} onChange={(e) => setDate(e.currentTarget.value)} error={add.error?.field("date")} w={180} />
                </Group>
                <Group>
                  <Button type="submit" variant="light" loading={add.busy}>
                    Add holiday
                  </Button>
                </Group>
              </Stack>
            </form>
          )}
        </Stack>
      </Status>
    </section>
  );
}
