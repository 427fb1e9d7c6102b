import { Badge, Button, Group, Stack, Text } from "@mantine/core";
import { api } from "../../../api/client";
import { FormError } from "../../../lib/FormError";
import { Status } from "../../../lib/Status";
import { useResource } from "../../../lib/useResource";
import { useSubmit } from "../../../lib/useSubmit";
import { ConfirmButton, saved } from "../ui";
import { Panel } from "./Profile";
import { deviceName } from "./device";

interface SessionOut {
  id: string;
  user_agent: string | null;
  ip: string | null;
  created_at: string;
  last_used_at: string;
  current: boolean;
}

/** The devices the user is signed in on: end one, or all but this one. */
export function Sessions({ refresh }: { refresh: number }) {
  const sessions = useResource((signal) => api.get<{ items: SessionOut[] }>("/v1/me/sessions", undefined, signal), [refresh]);
  const others = useSubmit(async () => {
    const { revoked } = await api.post<{ revoked: number }>("/v1/me/sessions/revoke-others");
    saved(revoked === 1 ? "1 other session is signed out." : `${revoked} other sessions are signed out.`);
    await sessions.reload();
  });
  const items = sessions.data?.items ?? [];
  return (
    <Panel id="profile-sessions" title="Active sessions">
      <Status ready={sessions.data !== undefined} error={sessions.error} retry={sessions.reload}>
        <Stack>
          <FormError error={others.error} />
          <Stack gap="sm" component="ul" style={{ listStyle: "none", padding: 0, margin: 0 }} aria-label="Sessions">
            {items.map((session) => (
              <Group key={session.id} component="li" justify="space-between" wrap="wrap" gap="xs">
                <Stack gap={0}>
                  <Text size="sm" fw={500}>
                    {deviceName(session.user_agent)} {session.current && <Badge size="xs" color="teal.9" variant="filled">This device</Badge>}
                  </Text>
                  <Text size="xs" c="dimmed">
                    {session.ip ?? "Unknown address"} · last active {new Date(session.last_used_at).toLocaleString()}
                  </Text>
                </Stack>
                {!session.current && (
                  <ConfirmButton
                    label="Sign out"
                    ariaLabel={`Sign out ${deviceName(session.user_agent)}, last active ${new Date(session.last_used_at).toLocaleString()}`}
                    title="Sign out this session?"
                    confirmLabel="Sign it out"
                    onConfirm={async () => {
                      await api.delete(`/v1/me/sessions/${session.id}`);
                      saved("The session is signed out.");
                      await sessions.reload();
                    }}
                  >
                    {deviceName(session.user_agent)} will have to sign in again.
                  </ConfirmButton>
                )}
              </Group>
            ))}
          </Stack>
          {items.some((s) => !s.current) && (
            <Group>
              <Button variant="light" color="red" loading={others.busy} onClick={() => void others.run()}>
                Sign out all other sessions
              </Button>
            </Group>
          )}
        </Stack>
      </Status>
    </Panel>
  );
}
