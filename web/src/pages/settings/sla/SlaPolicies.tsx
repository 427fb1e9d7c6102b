/** SLA policies (tried in order; the first whose conditions match applies) and holidays. */

import { Badge, Button, Card, Group, Stack, Text, Title } from "@mantine/core";
import { useState } from "react";
import { api } from "../../../api/client";
import { useAccount } from "../../../lib/account";
import { Status } from "../../../lib/Status";
import { useResource } from "../../../lib/useResource";
import type { Channel } from "../channels/types";
import { ConfirmButton, FormModal, PageTitle, saved } from "../ui";
import { Holidays } from "./Holidays";
import { PolicyEditor } from "./PolicyEditor";
import { summary, type Policy } from "./sla";

export function SlaPolicies() {
  const { account, url, can } = useAccount();
  const policies = useResource((signal) => api.get<{ items: Policy[] }>(url("/sla/policies"), undefined, signal), [account.id]);
  const channels = useResource((signal) => api.get<{ items: Channel[] }>(url("/channels"), undefined, signal), [account.id]);
  const teams = useResource((signal) => api.get<{ items: { id: string; name: string }[] }>(url("/teams"), undefined, signal), [account.id]);
  const [editing, setEditing] = useState<Policy | "new" | null>(null);
  const manage = can("sla:manage");
  return (
    <>
      <PageTitle
        title="SLA policies"
        description="Targets for first response, next response and resolution. Policies are tried in order: the first whose conditions match a conversation applies."
      />
      <Stack gap="xl">
        <Status ready={policies.data !== undefined} error={policies.error} retry={policies.reload}>
          <Stack>
            {manage && (
              <Group>
                <Button onClick={() => setEditing("new")}>New SLA policy</Button>
              </Group>
            )}
            {policies.data?.items.length === 0 && <Text c="dimmed">No SLA policies yet: conversations are not measured.</Text>}
            <Stack component="ol" gap="sm" style={{ listStyle: "none", padding: 0, margin: 0 }}>
              {policies.data?.items.map((policy) => (
                <Card key={policy.id} withBorder component="li" aria-labelledby={`policy-${policy.id}`}>
                  <Group justify="space-between" wrap="wrap" gap="xs">
                    <Title order={2} size="h5" id={`policy-${policy.id}`}>
                      {policy.name}
                    </Title>
                    <Group gap={4}>
                      <Badge variant="light">{policy.hours === "business" ? "Business hours" : "Calendar hours"}</Badge>
                      {!policy.enabled && (
                        <Badge variant="outline" color="dark.6">
                          Off
                        </Badge>
                      )}
                    </Group>
                  </Group>
                  {policy.description && (
                    <Text size="sm" c="dimmed">
                      {policy.description}
                    </Text>
                  )}
                  <Text size="sm" mt={4}>
                    {summary(policy)}
                  </Text>
                  {manage && (
                    <Group mt="sm" gap="xs">
                      <Button size="xs" variant="light" onClick={() => setEditing(policy)} aria-label={`Edit ${policy.name}`}>
                        Edit
                      </Button>
                      <ConfirmButton
                        label="Delete"
                        ariaLabel={`Delete ${policy.name}`}
                        title={`Delete the policy ${policy.name}?`}
                        confirmLabel="Delete policy"
                        onConfirm={async () => {
                          await api.delete(url(`/sla/policies/${policy.id}`));
                          saved(`The policy ${policy.name} is deleted.`);
                          await policies.reload();
                        }}
                      >
                        Its measurements go too; turn it off instead to keep its report.
                      </ConfirmButton>
                    </Group>
                  )}
                </Card>
              ))}
            </Stack>
          </Stack>
        </Status>
        <Holidays manage={manage} />
      </Stack>
      <FormModal opened={editing !== null} onClose={() => setEditing(null)} title={editing === "new" ? "New SLA policy" : `Edit ${editing?.name ?? ""}`}>
        {editing !== null && (
          <PolicyEditor
            policy={editing === "new" ? null : editing}
            channels={channels.data?.items ?? []}
            teams={teams.data?.items ?? []}
            onSaved={(policy) => {
              saved(`The policy ${policy.name} is saved.`);
              setEditing(null);
              void policies.reload();
            }}
            onCancel={() => setEditing(null)}
          />
        )}
      </FormModal>
    </>
  );
}
