/** The pages emailed links open: verify an email, reset a password, accept an invitation. */

import { Alert, Anchor, Button, Loader, PasswordInput, Stack, Text, TextInput } from "@mantine/core";
import { useEffect, useRef, useState, type FormEvent } from "react";
import { Link, useNavigate, useSearchParams } from "react-router-dom";
import { api } from "../../api/client";
import { describe, type ApiError } from "../../api/errors";
import type { Account } from "../../api/types";
import type { TokenPair } from "../../auth/tokens";
import { useAuth } from "../../auth/AuthContext";
import { FormError } from "../../lib/FormError";
import { useSubmit } from "../../lib/useSubmit";
import { AuthLayout } from "./AuthLayout";

export function VerifyEmail() {
  const [params] = useSearchParams();
  const token = params.get("token") ?? "";
  const { reload } = useAuth();
  const [state, setState] = useState<"working" | "done" | ApiError>("working");
  const sent = useRef(false);
  useEffect(() => {
    if (sent.current) return; // the token works once: never sent twice (StrictMode runs effects twice)
    sent.current = true;
    api
      .post("/v1/auth/verify-email", { token }, { anonymous: true })
      .then(() => {
        setState("done");
        void reload(); // a signed-in user's context says verified from now on
      })
      .catch((error: ApiError) => setState(error));
  }, [token, reload]);
  return (
    <AuthLayout title="Verify your email">
      {state === "working" && <Loader aria-label="Verifying" />}
      {state === "done" && (
        <Stack>
          <Alert color="green" role="status">
            Your email address is verified.
          </Alert>
          <Button component={Link} to="/">
            Continue
          </Button>
        </Stack>
      )}
      {typeof state === "object" && (
        <Stack>
          <Alert color="red" role="alert">
            {describe(state)}
          </Alert>
          <Text size="sm">Signed in, you can ask for a new email from your profile.</Text>
        </Stack>
      )}
    </AuthLayout>
  );
}

export function ForgotPassword() {
  const [email, setEmail] = useState("");
  const [sent, setSent] = useState(false);
  const forgot = useSubmit(async () => {
    await api.post("/v1/auth/password/forgot", { email }, { anonymous: true });
    setSent(true);
  });
  return (
    <AuthLayout title="Reset your password" footer={<Anchor component={Link} to="/signin">Back to sign in</Anchor>}>
      {sent ? (
        <Alert color="green" role="status">
          If an account uses {email}, a link to choose a new password is on its way.
        </Alert>
      ) : (
        <form
          onSubmit={(event: FormEvent) => {
            event.preventDefault();
            void forgot.run();
          }}
          noValidate
        >
          <Stack>
            <FormError error={forgot.error} />
            <TextInput label="Email" type="email" autoComplete="email" required value={email} onChange={(e) => setEmail(e.currentTarget.value)} error={forgot.error?.field("email")} />
            <Button type="submit" loading={forgot.busy}>
              Send the link
            </Button>
          </Stack>
        </form>
      )}
    </AuthLayout>
  );
}

export function ResetPassword() {
  const [params] = useSearchParams();
  const [password, setPassword] = useState("");
  const [done, setDone] = useState(false);
  const reset = useSubmit(async () => {
    await api.post("/v1/auth/password/reset", { token: params.get("token") ?? "", new_password: password }, { anonymous: true });
    setDone(true);
  });
  return (
    <AuthLayout title="Choose a new password">
      {done ? (
        <Stack>
          <Alert color="green" role="status">
            Your password is changed, and your other sessions are signed out.
          </Alert>
          <Button component={Link} to="/signin">
            Sign in
          </Button>
        </Stack>
      ) : (
        <form
          onSubmit={(event: FormEvent) => {
            event.preventDefault();
            void reset.run();
          }}
          noValidate
        >
          <Stack>
            <FormError error={reset.error} />
            <PasswordInput
              label="New password"
              description="At least 8 characters"
              autoComplete="new-password"
              required
              value={password}
              onChange={(e) => setPassword(e.currentTarget.value)}
              error={reset.error?.field("new_password")}
            />
            <Button type="submit" loading={reset.busy}>
              Change password
            </Button>
          </Stack>
        </form>
      )}
    </AuthLayout>
  );
}

export function AcceptInvitation() {
  const [params] = useSearchParams();
  const token = params.get("token") ?? "";
  const { status, context, signIn, reload } = useAuth();
  const navigate = useNavigate();
  const [form, setForm] = useState({ name: "", password: "" });
  const accept = useSubmit(async () => {
    const signedIn = status === "signed-in";
    const body = signedIn ? { token } : { token, ...form };
    const answer = await api.post<Partial<TokenPair> & { account: Account }>("/v1/invitations/accept", body, {
      anonymous: !signedIn,
    });
    if (answer.access_token) await signIn(answer as TokenPair);
    else await reload();
    navigate(`/a/${answer.account.id}/dashboard`, { replace: true });
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    void accept.run();
  };
  return (
    <AuthLayout title="Join your team">
      <form onSubmit={submit} noValidate>
        <Stack>
          <FormError error={accept.error} />
          {status === "signed-in" ? (
            <Text>
              Accept the invitation as <strong>{context?.user.email}</strong>.
            </Text>
          ) : (
            <>
              <Text size="sm">
                Choose your name and a password. Already have an account?{" "}
                <Anchor component={Link} to="/signin" state={{ from: `/accept-invitation?token=${encodeURIComponent(token)}` }}>
                  Sign in first
                </Anchor>
                .
              </Text>
              <TextInput label="Your name" autoComplete="name" required value={form.name} onChange={(e) => setForm({ ...form, name: e.currentTarget.value })} error={accept.error?.field("name")} />
              <PasswordInput
                label="Password"
                description="At least 8 characters"
                autoComplete="new-password"
                required
                value={form.password}
                onChange={(e) => setForm({ ...form, password: e.currentTarget.value })}
                error={accept.error?.field("password")}
              />
            </>
          )}
          <Button type="submit" loading={accept.busy}>
            Accept invitation
          </Button>
        </Stack>
      </form>
    </AuthLayout>
  );
}
