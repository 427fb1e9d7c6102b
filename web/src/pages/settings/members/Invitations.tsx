import { Badge, Button, Group, Table, Text, Title } from "@mantine/core";
import { api } from "../../../api/client";
import { useAccount } from "../../../lib/account";
import { FormError } from "../../../lib/FormError";
import { useSubmit } from "../../../lib/useSubmit";
import { roleLabel } from "../roles";
import { ConfirmButton, saved } from "../ui";
import type { Invitation } from "./types";

/** Open invitations (pending or expired), to send again or withdraw. */
export function Invitations({ invitations, manage, onChange }: { invitations: Invitation[]; manage: boolean; onChange: () => void }) {
  return (
    <section aria-labelledby="invitations-heading">
      <Title order={2} size="h4" mb="sm" id="invitations-heading">
        Invitations ({invitations.length})
      </Title>
      <Table.ScrollContainer minWidth={560}>
        <Table verticalSpacing="sm">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Email</Table.Th>
              <Table.Th>Role</Table.Th>
              <Table.Th>Status</Table.Th>
              {manage && <Table.Th>Actions</Table.Th>}
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {invitations.map((invitation) => (
              <InvitationRow key={invitation.id} invitation={invitation} manage={manage} onChange={onChange} />
            ))}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
    </section>
  );
}

function InvitationRow({ invitation, manage, onChange }: { invitation: Invitation; manage: boolean; onChange: () => void }) {
  const { url } = useAccount();
  const resend = useSubmit(async () => {
    await api.post(url(`/invitations/${invitation.id}/resend`));
    saved(`Invitation sent again to ${invitation.email}.`);
    onChange();
  });
  return (
    <Table.Tr>
      <Table.Td>
        <Text size="sm">{invitation.email}</Text>
        <FormError error={resend.error} />
      </Table.Td>
      <Table.Td>{roleLabel(invitation)}</Table.Td>
      <Table.Td>
        <Badge color={invitation.status === "pending" ? "blue" : "dark.6"} variant={invitation.status === "pending" ? "light" : "outline"}>
          {invitation.status === "pending" ? `Pending until ${new Date(invitation.expires_at).toLocaleDateString()}` : "Expired"}
        </Badge>
      </Table.Td>
      {manage && (
        <Table.Td>
          <Group gap="xs" wrap="nowrap">
            <Button size="xs" variant="light" loading={resend.busy} onClick={() => void resend.run()} aria-label={`Resend the invitation to ${invitation.email}`}>
              Resend
            </Button>
            <ConfirmButton
              label="Revoke"
              ariaLabel={`Revoke the invitation to ${invitation.email}`}
              title="Revoke the invitation?"
              confirmLabel="Revoke invitation"
              onConfirm={async () => {
                await api.delete(url(`/invitations/${invitation.id}`));
                saved(`The invitation to ${invitation.email} is revoked.`);
                onChange();
              }}
            >
              The link emailed to {invitation.email} will stop working.
            </ConfirmButton>
          </Group>
        </Table.Td>
      )}
    </Table.Tr>
  );
}
