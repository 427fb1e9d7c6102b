import { Alert, Badge, Button, Group, Image, List, SimpleGrid, Stack, Text, TextInput } from "@mantine/core";
import { useState, type FormEvent } from "react";
import { api, request } from "../../../api/client";
import { FormError } from "../../../lib/FormError";
import { Status } from "../../../lib/Status";
import { useResource } from "../../../lib/useResource";
import { useSubmit } from "../../../lib/useSubmit";
import { saved } from "../ui";
import { factorBody, groupSecret, svgSource } from "./mfa";
import { Panel } from "./Profile";

interface MfaStatus {
  enabled: boolean;
  enabled_at: string | null;
  recovery_codes_remaining: number;
}

interface Enrolment {
  secret: string;
  otpauth_uri: string;
  qr_svg: string;
}

/** Two-step verification: set up with an authenticator app (QR), recovery codes, turn off. */
export function Mfa() {
  const status = useResource((signal) => api.get<MfaStatus>("/v1/me/mfa", undefined, signal), []);
  const [codes, setCodes] = useState<string[] | null>(null);
  return (
    <Panel id="profile-mfa" title="Two-step verification">
      <Status ready={status.data !== undefined} error={status.error} retry={status.reload}>
        {codes ? (
          <RecoveryCodes codes={codes} onDone={() => setCodes(null)} />
        ) : status.data?.enabled ? (
          <Enabled status={status.data} onCodes={setCodes} onDisabled={() => void status.reload()} />
        ) : (
          <SetUp
            onEnabled={(recovery) => {
              setCodes(recovery);
              void status.reload();
            }}
          />
        )}
      </Status>
    </Panel>
  );
}

function SetUp({ onEnabled }: { onEnabled: (codes: string[]) => void }) {
  const [enrolment, setEnrolment] = useState<Enrolment | null>(null);
  const [code, setCode] = useState("");
  const start = useSubmit(async () => setEnrolment(await api.post<Enrolment>("/v1/me/mfa/totp")));
  const confirm = useSubmit(async () => {
    const { recovery_codes } = await api.post<{ recovery_codes: string[] }>("/v1/me/mfa/totp/confirm", { code });
    saved("Two-step verification is on.");
    onEnabled(recovery_codes);
  });
  if (!enrolment) {
    return (
      <Stack>
        <Text size="sm">
          <Badge color="dark.6" variant="outline" mr="xs">
            Off
          </Badge>
          Ask for a code from an authenticator app as well as your password when you sign in.
        </Text>
        <FormError error={start.error} />
        <Group>
          <Button loading={start.busy} onClick={() => void start.run()}>
            Set up two-step verification
          </Button>
        </Group>
      </Stack>
    );
  }
  const submit = (event: FormEvent) => {
    event.preventDefault();
    void confirm.run();
  };
  return (
    <form onSubmit={submit} noValidate>
      <Stack>
        <Text size="sm">1. Scan this QR code with your authenticator app, or type the setup key into it.</Text>
        <SimpleGrid cols={{ base: 1, xs: 2 }} spacing="md">
          <Image src={svgSource(enrolment.qr_svg)} alt="QR code to scan with your authenticator app" w={200} h={200} fit="contain" bg="white" />
          <Stack gap={4} justify="center">
            <TextInput
              label="Setup key"
              description="To type into the app instead of scanning"
              readOnly
              value={groupSecret(enrolment.secret)}
              onFocus={(e) => e.currentTarget.select()}
              styles={{ input: { fontFamily: "monospace" } }}
            />
          </Stack>
        </SimpleGrid>
        <Text size="sm">2. Enter the 6-digit code the app shows.</Text>
        <FormError error={confirm.error} />
        <TextInput
          label="6-digit code"
          inputMode="numeric"
          autoComplete="one-time-code"
          maxLength={6}
          required
          value={code}
          onChange={(e) => setCode(e.currentTarget.value)}
          error={confirm.error?.field("code")}
          maw={200}
        />
        <Group>
          <Button type="submit" loading={confirm.busy}>
            Turn on
          </Button>
          <Button variant="default" onClick={() => setEnrolment(null)}>
            Cancel
          </Button>
        </Group>
      </Stack>
    </form>
  );
}

function RecoveryCodes({ codes, onDone }: { codes: string[]; onDone: () => void }) {
  return (
    <Stack>
      <Alert color="yellow" title="Save your recovery codes" role="status">
        Each code signs you in once if you lose your authenticator app. They are shown only now: keep them somewhere safe.
      </Alert>
      <List aria-label="Recovery codes" listStyleType="none" spacing={4} ff="monospace">
        {codes.map((code) => (
          <List.Item key={code}>{code}</List.Item>
        ))}
      </List>
      <Group>
        <Button onClick={onDone}>I have saved my recovery codes</Button>
      </Group>
    </Stack>
  );
}

function Enabled({ status, onCodes, onDisabled }: { status: MfaStatus; onCodes: (codes: string[]) => void; onDisabled: () => void }) {
  const [factor, setFactor] = useState("");
  const disable = useSubmit(async () => {
    await request("DELETE", "/v1/me/mfa", { query: factorBody(factor) });
    setFactor("");
    saved("Two-step verification is off.");
    onDisabled();
  });
  const regenerate = useSubmit(async () => {
    const { recovery_codes } = await api.post<{ recovery_codes: string[] }>("/v1/me/mfa/recovery-codes", factorBody(factor));
    setFactor("");
    onCodes(recovery_codes);
  });
  const error = disable.error ?? regenerate.error;
  return (
    <form
      onSubmit={(event: FormEvent) => {
        event.preventDefault();
        void regenerate.run();
      }}
      noValidate
    >
      <Stack>
        <Text size="sm">
          <Badge color="teal.9" variant="filled" mr="xs">
            On
          </Badge>
          {status.enabled_at && `Since ${new Date(status.enabled_at).toLocaleDateString()}. `}
          {status.recovery_codes_remaining} recovery codes left.
        </Text>
        <FormError error={error} />
        <TextInput
          label="Authenticator code or recovery code"
          description="Needed to turn two-step verification off or to get new recovery codes"
          autoComplete="one-time-code"
          required
          value={factor}
          onChange={(e) => setFactor(e.currentTarget.value)}
          error={error?.field("code") ?? error?.field("recovery_code")}
          maw={360}
        />
        <Group>
          <Button type="submit" variant="light" loading={regenerate.busy}>
            New recovery codes
          </Button>
          <Button color="red" variant="light" loading={disable.busy} onClick={() => void disable.run()}>
            Turn off
          </Button>
        </Group>
      </Stack>
    </form>
  );
}
