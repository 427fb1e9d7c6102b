import { Button, Card, Group, Select, Stack, TextInput, Title } from "@mantine/core";
import { useState, type FormEvent } from "react";
import { api } from "../../../api/client";
import { useAccount } from "../../../lib/account";
import { FormError } from "../../../lib/FormError";
import { useSubmit } from "../../../lib/useSubmit";
import { roleBody, roleOptions, type RoleOut } from "../roles";
import { saved } from "../ui";

/** Invite someone by email with a role; the API emails them a link. */
export function InviteForm({ roles, onInvited }: { roles: RoleOut[]; onInvited: () => void }) {
  const { url } = useAccount();
  const [email, setEmail] = useState("");
  const [role, setRole] = useState<string | null>("agent");
  const invite = useSubmit(async () => {
    await api.post(url("/invitations"), { email, ...roleBody(role ?? "", roles) });
    saved(`Invitation sent to ${email}.`);
    setEmail("");
    onInvited();
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    void invite.run();
  };
  const roleError = invite.error?.field("role") ?? invite.error?.field("role_id");
  return (
    <Card withBorder component="section" aria-labelledby="invite-heading">
      <Title order={2} size="h4" mb="sm" id="invite-heading">
        Invite a team member
      </Title>
      <form onSubmit={submit} noValidate>
        <Stack>
          <FormError error={invite.error} />
          <Group align="flex-start" grow preventGrowOverflow={false} wrap="wrap">
            <TextInput
              label="Email"
              type="email"
              autoComplete="off"
              required
              value={email}
              onChange={(e) => setEmail(e.currentTarget.value)}
              error={invite.error?.field("email")}
              miw={220}
            />
            <Select label="Role" required data={roleOptions(roles)} value={role} onChange={setRole} allowDeselect={false} error={roleError} miw={160} />
          </Group>
          <Group>
            <Button type="submit" loading={invite.busy}>
              Send invitation
            </Button>
          </Group>
        </Stack>
      </form>
    </Card>
  );
}
