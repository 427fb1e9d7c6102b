/** The signed-in user's own settings: name, password, two-step verification, sessions. */

import { Button, Card, Group, PasswordInput, Stack, Text, TextInput, Title } from "@mantine/core";
import { useState, type FormEvent, type ReactNode } from "react";
import { api } from "../../../api/client";
import type { TokenPair } from "../../../auth/tokens";
import { useAuth } from "../../../auth/AuthContext";
import { FormError } from "../../../lib/FormError";
import { useSubmit } from "../../../lib/useSubmit";
import { PageTitle, saved } from "../ui";
import { Mfa } from "./Mfa";
import { Sessions } from "./Sessions";

export function Profile() {
  const { context } = useAuth();
  const [passwordChanges, setPasswordChanges] = useState(0); // other sessions end with each
  return (
    <>
      <PageTitle title="Profile and security" description={`Signed in as ${context?.user.email ?? ""}`} />
      <Stack maw={760} gap="lg">
        <NameForm />
        <PasswordForm onChanged={() => setPasswordChanges((n) => n + 1)} />
        <Mfa />
        <Sessions refresh={passwordChanges} />
      </Stack>
    </>
  );
}

export function Panel({ id, title, children }: { id: string; title: string; children: ReactNode }) {
  return (
    <Card withBorder component="section" aria-labelledby={id}>
      <Title order={2} size="h4" mb="sm" id={id}>
        {title}
      </Title>
      {children}
    </Card>
  );
}

function NameForm() {
  const { context, reload } = useAuth();
  const [name, setName] = useState(context?.user.name ?? "");
  const save = useSubmit(async () => {
    await api.patch("/v1/me", { name });
    await reload();
    saved("Your name is saved.");
  });
  return (
    <Panel id="profile-name" title="Your name">
      <form
        onSubmit={(event: FormEvent) => {
          event.preventDefault();
          void save.run();
        }}
        noValidate
      >
        <Stack>
          <FormError error={save.error} />
          <TextInput label="Name" autoComplete="name" required value={name} onChange={(e) => setName(e.currentTarget.value)} error={save.error?.field("name")} />
          <Group>
            <Button type="submit" loading={save.busy}>
              Save name
            </Button>
          </Group>
        </Stack>
      </form>
    </Panel>
  );
}

function PasswordForm({ onChanged }: { onChanged: () => void }) {
  const { signIn } = useAuth();
  const [current, setCurrent] = useState("");
  const [next, setNext] = useState("");
  const change = useSubmit(async () => {
    // The answer is this session's new tokens: the old ones, and every other session, end.
    await signIn(await api.post<TokenPair>("/v1/me/password", { current_password: current, new_password: next }));
    setCurrent("");
    setNext("");
    onChanged();
    saved("Your password is changed; your other sessions are signed out.");
  });
  return (
    <Panel id="profile-password" title="Password">
      <form
        onSubmit={(event: FormEvent) => {
          event.preventDefault();
          void change.run();
        }}
        noValidate
      >
        <Stack>
          <Text size="sm" c="dimmed">
            Changing it signs you out everywhere else.
          </Text>
          <FormError error={change.error} />
          <PasswordInput
            label="Current password"
            autoComplete="current-password"
            required
            value={current}
            onChange={(e) => setCurrent(e.currentTarget.value)}
            error={change.error?.field("current_password")}
          />
          <PasswordInput
            label="New password"
            description="At least 8 characters"
            autoComplete="new-password"
            required
            value={next}
            onChange={(e) => setNext(e.currentTarget.value)}
            error={change.error?.field("new_password")}
          />
          <Group>
            <Button type="submit" loading={change.busy}>
              Change password
            </Button>
          </Group>
        </Stack>
      </form>
    </Panel>
  );
}
