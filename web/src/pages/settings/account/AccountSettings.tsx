/** The account's name, time zone, language and business hours (`…/settings`). */

import { Button, Card, Group, Select, Stack, TextInput, Title } from "@mantine/core";
import { useEffect, useMemo, useState, type FormEvent } from "react";
import { api } from "../../../api/client";
import { useAuth } from "../../../auth/AuthContext";
import { useAccount } from "../../../lib/account";
import { FormError } from "../../../lib/FormError";
import { Status } from "../../../lib/Status";
import { useResource } from "../../../lib/useResource";
import { useSubmit } from "../../../lib/useSubmit";
import { toApi, toEditable, type ApiHours, type DayHours } from "../hours";
import { PageTitle, saved } from "../ui";
import { BusinessHoursEditor } from "./BusinessHoursEditor";

interface SettingsOut {
  name: string;
  logo_url: string | null;
  timezone: string;
  locale: string;
  business_hours: ApiHours;
  updated_at: string | null;
}

export function AccountSettings() {
  const { account, url, can } = useAccount();
  const settings = useResource((signal) => api.get<SettingsOut>(url("/settings"), undefined, signal), [account.id]);
  return (
    <>
      <PageTitle title="Account" description="How the account presents itself, and when it is open for business." />
      <Status ready={settings.data !== undefined} error={settings.error} retry={settings.reload}>
        {settings.data && <SettingsForm initial={settings.data} readOnly={!can("settings:manage")} onSaved={settings.setData} />}
      </Status>
    </>
  );
}

function zones(current: string): string[] {
  const all = typeof Intl.supportedValuesOf === "function" ? Intl.supportedValuesOf("timeZone") : [];
  return [...new Set(["UTC", current, ...all])];
}

function SettingsForm({ initial, readOnly, onSaved }: { initial: SettingsOut; readOnly: boolean; onSaved: (s: SettingsOut) => void }) {
  const { url } = useAccount();
  const { reload } = useAuth();
  const [name, setName] = useState(initial.name);
  const [timezone, setTimezone] = useState<string | null>(initial.timezone);
  const [locale, setLocale] = useState(initial.locale);
  const [days, setDays] = useState<DayHours[]>(() => toEditable(initial.business_hours));
  useEffect(() => setDays(toEditable(initial.business_hours)), [initial.business_hours]);
  const timezones = useMemo(() => zones(initial.timezone), [initial.timezone]);

  const save = useSubmit(async () => {
    const answer = await api.patch<SettingsOut>(url("/settings"), { name, timezone, locale, business_hours: toApi(days) });
    onSaved(answer);
    saved("Account settings saved.");
    if (answer.name !== initial.name) await reload(); // the header names the account
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    void save.run();
  };
  return (
    <form onSubmit={submit} noValidate>
      <Stack maw={760}>
        <FormError error={save.error} />
        <Card withBorder component="fieldset" disabled={readOnly} style={{ margin: 0 }}>
          <Title order={2} size="h4" mb="sm" component="legend">
            General
          </Title>
          <Stack>
            <TextInput label="Account name" required value={name} onChange={(e) => setName(e.currentTarget.value)} error={save.error?.field("name")} />
            <Group grow align="flex-start" wrap="wrap" preventGrowOverflow={false}>
              <Select
                label="Time zone"
                description="Business hours and reports use it"
                data={timezones}
                value={timezone}
                onChange={setTimezone}
                searchable
                allowDeselect={false}
                error={save.error?.field("timezone")}
                miw={220}
                readOnly={readOnly}
              />
              <TextInput
                label="Language"
                description="A language tag, such as en or pt-BR"
                value={locale}
                onChange={(e) => setLocale(e.currentTarget.value)}
                error={save.error?.field("locale")}
                miw={160}
              />
            </Group>
          </Stack>
        </Card>
        <BusinessHoursEditor days={days} onChange={setDays} readOnly={readOnly} error={save.error} />
        {!readOnly && (
          <Group>
            <Button type="submit" loading={save.busy}>
              Save settings
            </Button>
          </Group>
        )}
      </Stack>
    </form>
  );
}
