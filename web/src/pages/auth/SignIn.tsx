import { Anchor, Button, PasswordInput, Stack, Tabs, TextInput } from "@mantine/core";
import { useState, type FormEvent } from "react";
import { Link, useLocation, useNavigate } from "react-router-dom";
import { api } from "../../api/client";
import type { LoginAnswer } from "../../api/types";
import type { TokenPair } from "../../auth/tokens";
import { useAuth } from "../../auth/AuthContext";
import { FormError } from "../../lib/FormError";
import { useSubmit } from "../../lib/useSubmit";
import { AuthLayout } from "./AuthLayout";

/** Sign in with email and password, then, for a user with MFA, a code of their app. */
export function SignIn() {
  const { signIn } = useAuth();
  const navigate = useNavigate();
  const next = (useLocation().state as { from?: string } | null)?.from ?? "/";
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [mfaToken, setMfaToken] = useState<string | null>(null);

  const login = useSubmit(async () => {
    const answer = await api.post<LoginAnswer>("/v1/auth/login", { email, password }, { anonymous: true });
    if (answer.mfa_required) {
      setMfaToken(answer.mfa_token ?? null);
      return;
    }
    await signIn(answer as TokenPair);
    navigate(next, { replace: true });
  });

  const submit = (event: FormEvent) => {
    event.preventDefault();
    void login.run();
  };

  if (mfaToken) return <SecondFactor mfaToken={mfaToken} next={next} onRestart={() => setMfaToken(null)} />;

  return (
    <AuthLayout
      title="Sign in"
      footer={
        <>
          New to Turumba? <Anchor component={Link} to="/signup">Create an account</Anchor>
        </>
      }
    >
      <form onSubmit={submit} noValidate>
        <Stack>
          <FormError error={login.error} />
          <TextInput
            label="Email"
            type="email"
            autoComplete="username"
            required
            value={email}
            onChange={(e) => setEmail(e.currentTarget.value)}
            error={login.error?.field("email")}
          />
          <PasswordInput
            label="Password"
            autoComplete="current-password"
            required
            value={password}
            onChange={(e) => setPassword(e.currentTarget.value)}
            error={login.error?.field("password")}
          />
          <Button type="submit" loading={login.busy} fullWidth>
            Sign in
          </Button>
          <Anchor component={Link} to="/forgot-password" size="sm" ta="center">
            Forgot your password?
          </Anchor>
        </Stack>
      </form>
    </AuthLayout>
  );
}

function SecondFactor({ mfaToken, next, onRestart }: { mfaToken: string; next: string; onRestart: () => void }) {
  const { signIn } = useAuth();
  const navigate = useNavigate();
  const [method, setMethod] = useState<string | null>("code");
  const [code, setCode] = useState("");
  const [recovery, setRecovery] = useState("");
  const verify = useSubmit(async () => {
    const body = method === "code" ? { mfa_token: mfaToken, code } : { mfa_token: mfaToken, recovery_code: recovery };
    await signIn(await api.post<TokenPair>("/v1/auth/login/mfa", body, { anonymous: true }));
    navigate(next, { replace: true });
  });
  return (
    <AuthLayout title="Two-step verification" footer={<Anchor component="button" onClick={onRestart}>Start over</Anchor>}>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          void verify.run();
        }}
        noValidate
      >
        <Stack>
          <FormError error={verify.error} />
          <Tabs value={method} onChange={setMethod}>
            <Tabs.List grow>
              <Tabs.Tab value="code">Authenticator code</Tabs.Tab>
              <Tabs.Tab value="recovery">Recovery code</Tabs.Tab>
            </Tabs.List>
          </Tabs>
          {method === "code" ? (
            <TextInput
              label="6-digit code"
              inputMode="numeric"
              autoComplete="one-time-code"
              maxLength={6}
              required
              value={code}
              onChange={(e) => setCode(e.currentTarget.value)}
              error={verify.error?.field("code")}
              data-autofocus
            />
          ) : (
            <TextInput
              label="Recovery code"
              autoComplete="off"
              required
              value={recovery}
              onChange={(e) => setRecovery(e.currentTarget.value)}
              error={verify.error?.field("recovery_code")}
            />
          )}
          <Button type="submit" loading={verify.busy} fullWidth>
            Verify
          </Button>
        </Stack>
      </form>
    </AuthLayout>
  );
}
