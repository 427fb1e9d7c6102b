/** Deleting a contact, after a confirmation (a soft delete: restorable for a while). */

import { Button, Group, Modal, Stack, Text } from "@mantine/core";
import { useDisclosure } from "@mantine/hooks";
import { notifications } from "@mantine/notifications";
import { useNavigate } from "react-router-dom";
import { api } from "../../api/client";
import { useAccount } from "../../lib/account";
import { FormError } from "../../lib/FormError";
import { useSubmit } from "../../lib/useSubmit";
import type { Contact } from "./types";

export function DeleteContact({ contact }: { contact: Contact }) {
  const { url, base } = useAccount();
  const navigate = useNavigate();
  const [opened, { open, close }] = useDisclosure(false);
  const remove = useSubmit(async () => {
    await api.delete(url(`/contacts/${contact.id}`));
    notifications.show({ message: `${contact.name} was deleted.`, color: "green" });
    navigate(`${base}/contacts`);
  });
  return (
    <>
      <Button color="red" variant="light" onClick={open}>
        Delete
      </Button>
      <Modal opened={opened} onClose={close} title={`Delete ${contact.name}?`} centered>
        <Stack>
          <FormError error={remove.error} />
          <Text size="sm">
            The contact disappears from lists and searches, and its email and phone become free for other contacts. It can be
            restored for a while.
          </Text>
          <Group justify="flex-end">
            <Button variant="default" onClick={close} data-autofocus>
              Cancel
            </Button>
            <Button color="red" onClick={() => void remove.run()} loading={remove.busy}>
              Delete contact
            </Button>
          </Group>
        </Stack>
      </Modal>
    </>
  );
}
