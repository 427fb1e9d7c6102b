import { Anchor, Button, PasswordInput, Stack, TextInput } from "@mantine/core";
import { useState, type FormEvent } from "react";
import { Link, useNavigate } from "react-router-dom";
import { api } from "../../api/client";
import type { Account } from "../../api/types";
import type { TokenPair } from "../../auth/tokens";
import { useAuth } from "../../auth/AuthContext";
import { FormError } from "../../lib/FormError";
import { useSubmit } from "../../lib/useSubmit";
import { AuthLayout } from "./AuthLayout";

/** Sign up: the user and their organisation's account in one step. */
export function SignUp() {
  const { signIn } = useAuth();
  const navigate = useNavigate();
  const [form, setForm] = useState({ name: "", email: "", password: "", account_name: "" });
  const set = (key: keyof typeof form) => (e: React.ChangeEvent<HTMLInputElement>) =>
    setForm({ ...form, [key]: e.currentTarget.value });

  const signup = useSubmit(async () => {
    const answer = await api.post<TokenPair & { account: Account }>("/v1/auth/signup", form, { anonymous: true });
    await signIn(answer);
    navigate(`/a/${answer.account.id}/dashboard`, { replace: true });
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    void signup.run();
  };

  return (
    <AuthLayout
      title="Create your account"
      footer={
        <>
          Already have an account? <Anchor component={Link} to="/signin">Sign in</Anchor>
        </>
      }
    >
      <form onSubmit={submit} noValidate>
        <Stack>
          <FormError error={signup.error} />
          <TextInput label="Your name" autoComplete="name" required value={form.name} onChange={set("name")} error={signup.error?.field("name")} />
          <TextInput label="Work email" type="email" autoComplete="email" required value={form.email} onChange={set("email")} error={signup.error?.field("email")} />
          <PasswordInput
            label="Password"
            description="At least 8 characters"
            autoComplete="new-password"
            required
            value={form.password}
            onChange={set("password")}
            error={signup.error?.field("password")}
          />
          <TextInput
            label="Organisation"
            autoComplete="organization"
            required
            value={form.account_name}
            onChange={set("account_name")}
            error={signup.error?.field("account_name") ?? signup.error?.field("slug")}
          />
          <Button type="submit" loading={signup.busy} fullWidth>
            Create account
          </Button>
        </Stack>
      </form>
    </AuthLayout>
  );
}
