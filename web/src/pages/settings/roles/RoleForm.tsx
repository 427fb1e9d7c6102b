import { Checkbox, Fieldset, Stack, Text, Textarea, TextInput } from "@mantine/core";
import { useState, type FormEvent } from "react";
import { api } from "../../../api/client";
import { useAccount } from "../../../lib/account";
import { FormError } from "../../../lib/FormError";
import { useSubmit } from "../../../lib/useSubmit";
import { groupPermissions, toggleGroup, type PermissionOut, type RoleOut } from "../roles";
import { FormActions } from "../ui";

/** A custom role's name, description and permissions, ticked by resource. */
export function RoleForm({
  role,
  catalogue,
  held,
  onSaved,
  onCancel,
}: {
  role: RoleOut | null;
  catalogue: PermissionOut[];
  held: string[];
  onSaved: (role: RoleOut) => void;
  onCancel: () => void;
}) {
  const { url } = useAccount();
  const [name, setName] = useState(role?.name ?? "");
  const [description, setDescription] = useState(role?.description ?? "");
  const [permissions, setPermissions] = useState<string[]>(role?.permissions ?? []);
  const save = useSubmit(async () => {
    const body = { name, description: description || null, permissions };
    onSaved(role ? await api.patch<RoleOut>(url(`/roles/${role.id}`), body) : await api.post<RoleOut>(url("/roles"), body));
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    void save.run();
  };
  const mayGrant = new Set(held);
  return (
    <form onSubmit={submit} noValidate>
      <Stack>
        <FormError error={save.error} />
        <TextInput label="Name" required value={name} onChange={(e) => setName(e.currentTarget.value)} error={save.error?.field("name")} data-autofocus />
        <Textarea label="Description" autosize minRows={2} value={description} onChange={(e) => setDescription(e.currentTarget.value)} error={save.error?.field("description")} />
        {save.error?.field("permissions") && (
          <Text c="red" size="sm" role="alert">
            {save.error.field("permissions")}
          </Text>
        )}
        {groupPermissions(catalogue).map((group) => {
          const names = group.permissions.map((p) => p.name);
          const ticked = names.filter((n) => permissions.includes(n)).length;
          const grantable = names.every((n) => mayGrant.has(n));
          return (
            <Fieldset key={group.resource} legend={group.label} variant="filled">
              <Stack gap="xs">
                <Checkbox
                  label={`All ${group.label.toLowerCase()} permissions`}
                  checked={ticked === names.length}
                  indeterminate={ticked > 0 && ticked < names.length}
                  disabled={!grantable}
                  onChange={(e) => setPermissions(toggleGroup(permissions, group, e.currentTarget.checked))}
                />
                {group.permissions.map((permission) => (
                  <Checkbox
                    key={permission.name}
                    ml="lg"
                    label={permission.name}
                    description={mayGrant.has(permission.name) ? permission.description : `${permission.description} (you do not hold it, so cannot grant it)`}
                    disabled={!mayGrant.has(permission.name)}
                    checked={permissions.includes(permission.name)}
                    onChange={(e) =>
                      setPermissions(e.currentTarget.checked ? [...permissions, permission.name] : permissions.filter((p) => p !== permission.name))
                    }
                  />
                ))}
              </Stack>
            </Fieldset>
          );
        })}
        <FormActions onCancel={onCancel} busy={save.busy} save="Save role" />
      </Stack>
    </form>
  );
}
