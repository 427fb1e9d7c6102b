/**
 * Until the user's email is verified (inviting teammates and some settings wait for it),
 * a banner says so, sends the email again, and takes the short code from it.
 */

import { Alert, Box, Button, Group, Text, TextInput } from "@mantine/core";
import { useState, type FormEvent } from "react";
import { api } from "../api/client";
import { describe } from "../api/errors";
import { useAuth } from "../auth/AuthContext";
import { useSubmit } from "../lib/useSubmit";

export function VerifyBanner() {
  const { context, reload } = useAuth();
  const [code, setCode] = useState("");
  const [sent, setSent] = useState(false);
  const resend = useSubmit(async () => {
    await api.post("/v1/me/verification-email");
    setSent(true);
  });
  const verify = useSubmit(async () => {
    await api.post("/v1/me/verify-email", { code });
    await reload();
  });
  if (!context || context.user.email_verified !== false) return null;
  const submit = (event: FormEvent) => {
    event.preventDefault();
    void verify.run();
  };
  return (
    <Box component="section" aria-label="Email verification" mb="md">
    <Alert color="blue" title="Verify your email address">
      <Text size="sm" mb="xs">
        We emailed a link and a code to <strong>{context.user.email}</strong>. Inviting teammates waits for it.
      </Text>
      <form onSubmit={submit} noValidate>
        <Group align="flex-end" gap="xs">
          <TextInput
            label="Code from the email"
            size="xs"
            value={code}
            onChange={(e) => setCode(e.currentTarget.value)}
            error={verify.error ? (verify.error.field("code") ?? describe(verify.error)) : undefined}
          />
          <Button type="submit" size="xs" loading={verify.busy}>
            Verify
          </Button>
          <Button variant="subtle" size="xs" onClick={() => void resend.run()} loading={resend.busy}>
            {sent ? "Sent again" : "Send it again"}
          </Button>
        </Group>
      </form>
      {resend.error && (
        <Text size="sm" c="red.8" role="alert" mt="xs">
          {describe(resend.error)}
        </Text>
      )}
    </Alert>
    </Box>
  );
}
