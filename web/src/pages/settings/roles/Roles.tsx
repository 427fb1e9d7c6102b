/** Roles and permissions: the built-in roles, and custom roles made from the catalogue. */

import { Badge, Button, Card, Group, SimpleGrid, Stack, Text, Title } from "@mantine/core";
import { useState } from "react";
import { api } from "../../../api/client";
import { useAccount } from "../../../lib/account";
import { Status } from "../../../lib/Status";
import { useResource } from "../../../lib/useResource";
import { capitalise, type PermissionOut, type RoleOut } from "../roles";
import { ConfirmButton, FormModal, PageTitle, saved } from "../ui";
import { RoleForm } from "./RoleForm";

export function Roles() {
  const { account, url, can } = useAccount();
  const roles = useResource((signal) => api.get<{ items: RoleOut[] }>(url("/roles"), undefined, signal), [account.id]);
  const catalogue = useResource((signal) => api.get<{ items: PermissionOut[] }>("/v1/permissions", undefined, signal), []);
  const [editing, setEditing] = useState<RoleOut | "new" | null>(null);
  const manage = can("roles:manage");
  const ready = roles.data !== undefined && catalogue.data !== undefined;
  return (
    <>
      <PageTitle title="Roles and permissions" description="Built-in roles, and custom roles that grant exactly the permissions you choose." />
      <Status ready={ready} error={roles.error ?? catalogue.error} retry={() => void Promise.all([roles.reload(), catalogue.reload()])}>
        <Stack>
          {manage && (
            <Group>
              <Button onClick={() => setEditing("new")}>New role</Button>
            </Group>
          )}
          <SimpleGrid cols={{ base: 1, md: 2 }} component="ul" style={{ listStyle: "none", padding: 0, margin: 0 }}>
            {(roles.data?.items ?? []).map((role) => (
              <Card key={role.id} withBorder component="li" aria-labelledby={`role-${role.id}`}>
                <Group justify="space-between" wrap="nowrap" align="flex-start">
                  <Title order={2} size="h5" id={`role-${role.id}`}>
                    {role.built_in ? capitalise(role.name) : role.name}
                  </Title>
                  {role.built_in && <Badge variant="light">Built-in</Badge>}
                </Group>
                {role.description && (
                  <Text size="sm" c="dimmed" mt={4}>
                    {role.description}
                  </Text>
                )}
                <Text size="sm" mt="xs">
                  {role.permissions.length} permissions
                </Text>
                {manage && !role.built_in && (
                  <Group mt="sm" gap="xs">
                    <Button size="xs" variant="light" onClick={() => setEditing(role)} aria-label={`Edit ${role.name}`}>
                      Edit
                    </Button>
                    <ConfirmButton
                      label="Delete"
                      ariaLabel={`Delete ${role.name}`}
                      title={`Delete the role ${role.name}?`}
                      confirmLabel="Delete role"
                      onConfirm={async () => {
                        await api.delete(url(`/roles/${role.id}`));
                        saved(`The role ${role.name} is deleted.`);
                        await roles.reload();
                      }}
                    >
                      Only a role nobody holds (and no open invitation offers) can be deleted.
                    </ConfirmButton>
                  </Group>
                )}
              </Card>
            ))}
          </SimpleGrid>
        </Stack>
      </Status>
      <FormModal opened={editing !== null} onClose={() => setEditing(null)} title={editing === "new" ? "New role" : `Edit ${editing?.name ?? ""}`}>
        {editing !== null && catalogue.data && (
          <RoleForm
            role={editing === "new" ? null : editing}
            catalogue={catalogue.data.items}
            held={account.permissions}
            onSaved={(role) => {
              saved(`The role ${role.name} is saved.`);
              setEditing(null);
              void roles.reload();
            }}
            onCancel={() => setEditing(null)}
          />
        )}
      </FormModal>
    </>
  );
}
