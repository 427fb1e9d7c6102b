import { Avatar, Badge, Group, Select, Stack, Table, Text } from "@mantine/core";
import { api } from "../../../api/client";
import { useAccount } from "../../../lib/account";
import { useSubmit } from "../../../lib/useSubmit";
import { roleBody, roleLabel, roleOptions, roleValue, type RoleOut } from "../roles";
import { ConfirmButton, saved } from "../ui";
import type { Member } from "./types";

export function MemberList({
  members,
  roles,
  manage,
  selfId,
  onChange,
}: {
  members: Member[];
  roles: RoleOut[];
  manage: boolean;
  selfId?: string;
  onChange: () => void;
}) {
  return (
    <Table.ScrollContainer minWidth={560}>
      <Table verticalSpacing="sm">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Member</Table.Th>
            <Table.Th>Role</Table.Th>
            {manage && <Table.Th>Actions</Table.Th>}
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {members.map((member) => (
            <MemberRow key={member.user_id} member={member} roles={roles} manage={manage} self={member.user_id === selfId} onChange={onChange} />
          ))}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}

function MemberRow({ member, roles, manage, self, onChange }: { member: Member; roles: RoleOut[]; manage: boolean; self: boolean; onChange: () => void }) {
  const { url } = useAccount();
  const change = useSubmit(async (value: string) => {
    await api.patch(url(`/members/${member.user_id}`), roleBody(value, roles));
    saved(`${member.name} is now ${roleLabel(rolePicked(value, roles))}.`);
    onChange();
  });
  return (
    <Table.Tr>
      <Table.Td>
        <Group gap="sm" wrap="nowrap">
          <Avatar name={member.name} color="blue" size="md" aria-hidden />
          <Stack gap={0}>
            <Text size="sm" fw={500}>
              {member.name} {self && <Badge size="xs" variant="light">You</Badge>}
            </Text>
            <Text size="xs" c="dimmed">
              {member.email}
            </Text>
          </Stack>
        </Group>
      </Table.Td>
      <Table.Td>
        {manage && !self ? (
          <Select
            aria-label={`Role of ${member.name}`}
            data={roleOptions(roles)}
            value={roleValue(member)}
            onChange={(value) => value && value !== roleValue(member) && void change.run(value)}
            allowDeselect={false}
            disabled={change.busy}
            error={change.error ? change.error.field("role") ?? change.error.field("role_id") ?? change.error.message : undefined}
            size="xs"
            w={180}
          />
        ) : (
          <Text size="sm">{roleLabel(member)}</Text>
        )}
      </Table.Td>
      {manage && (
        <Table.Td>
          {!self && (
            <ConfirmButton
              label="Remove"
              ariaLabel={`Remove ${member.name}`}
              title={`Remove ${member.name}?`}
              confirmLabel="Remove member"
              onConfirm={async () => {
                await api.delete(url(`/members/${member.user_id}`));
                saved(`${member.name} is removed from the account.`);
                onChange();
              }}
            >
              {member.name} ({member.email}) will no longer be able to open this account. Their conversations stay.
            </ConfirmButton>
          )}
        </Table.Td>
      )}
    </Table.Tr>
  );
}

function rolePicked(value: string, roles: RoleOut[]) {
  const role = roles.find((r) => r.id === value);
  return role && !role.built_in ? { role: "agent", custom_role: { id: role.id, name: role.name } } : { role: value, custom_role: null };
}
