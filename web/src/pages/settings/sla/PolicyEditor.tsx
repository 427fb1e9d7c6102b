import { Fieldset, MultiSelect, Radio, SegmentedControl, SimpleGrid, Stack, Switch, Text, Textarea, TextInput } from "@mantine/core";
import { useState, type FormEvent } from "react";
import { api } from "../../../api/client";
import { useAccount } from "../../../lib/account";
import { FormError } from "../../../lib/FormError";
import { useSubmit } from "../../../lib/useSubmit";
import type { Channel } from "../channels/types";
import { describeMinutes, fromApi, PRIORITIES, TARGET_NAMES, TARGETS, toApi, type Policy, type PolicyForm } from "./sla";
import { FormActions } from "../ui";

const label = (p: string) => p.charAt(0).toUpperCase() + p.slice(1);

/** A policy's targets per priority (minutes), its warning, hours and conditions. */
export function PolicyEditor({
  policy,
  channels,
  teams,
  onSaved,
  onCancel,
}: {
  policy: Policy | null;
  channels: Channel[];
  teams: { id: string; name: string }[];
  onSaved: (p: Policy) => void;
  onCancel: () => void;
}) {
  const { url } = useAccount();
  const [form, setForm] = useState<PolicyForm>(() => fromApi(policy));
  const set = (patch: Partial<PolicyForm>) => setForm({ ...form, ...patch });
  const save = useSubmit(async () => {
    const body = toApi(form);
    onSaved(policy ? await api.patch<Policy>(url(`/sla/policies/${policy.id}`), body) : await api.post<Policy>(url("/sla/policies"), body));
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    void save.run();
  };
  const error = save.error;
  const warningError = error?.field(`warning.${form.warning}`) ?? error?.field("warning._schema") ?? error?.field("warning");
  return (
    <form onSubmit={submit} noValidate>
      <Stack>
        <FormError error={error} />
        <TextInput label="Name" required value={form.name} onChange={(e) => set({ name: e.currentTarget.value })} error={error?.field("name")} data-autofocus />
        <Textarea label="Description" autosize minRows={1} value={form.description} onChange={(e) => set({ description: e.currentTarget.value })} error={error?.field("description")} />
        <Switch label="Applies to new conversations" checked={form.enabled} onChange={(e) => set({ enabled: e.currentTarget.checked })} />
        <Radio.Group
          label="Time counted"
          value={form.hours}
          onChange={(value) => set({ hours: value as PolicyForm["hours"] })}
          error={error?.field("hours")}
        >
          <Stack gap={6} mt={4}>
            <Radio value="business" label="Business hours only (the account's hours, less holidays)" />
            <Radio value="calendar" label="Calendar time (around the clock)" />
          </Stack>
        </Radio.Group>
        <Text size="sm" fw={500}>
          Targets in minutes (leave blank not to measure)
        </Text>
        {PRIORITIES.map((priority) => (
          <Fieldset key={priority} legend={`${label(priority)} priority`} variant="filled">
            <SimpleGrid cols={{ base: 1, xs: 3 }} spacing="xs">
              {TARGETS.map((target) => (
                <TextInput
                  key={target}
                  label={`${TARGET_NAMES[target]} (${priority})`}
                  inputMode="numeric"
                  value={form.targets[priority][target]}
                  onChange={(e) => set({ targets: { ...form.targets, [priority]: { ...form.targets[priority], [target]: e.currentTarget.value } } })}
                  description={describeMinutes(form.targets[priority][target])}
                  error={error?.field(`targets.${priority}.${target}`)}
                />
              ))}
            </SimpleGrid>
          </Fieldset>
        ))}
        <Fieldset legend="Warning before a deadline" variant="filled">
          <Stack gap="xs">
            <SegmentedControl
              aria-label="Warn"
              value={form.warning}
              onChange={(value) => set({ warning: value as PolicyForm["warning"] })}
              data={[
                { value: "none", label: "No warning" },
                { value: "minutes_before", label: "Minutes before" },
                { value: "percent", label: "% of the time used" },
              ]}
              fullWidth
            />
            {form.warning !== "none" && (
              <TextInput
                label={form.warning === "percent" ? "Warn when this % of the time is used" : "Warn this many minutes before"}
                inputMode="numeric"
                value={form.warningValue}
                onChange={(e) => set({ warningValue: e.currentTarget.value })}
                error={warningError}
                maw={280}
              />
            )}
          </Stack>
        </Fieldset>
        <Fieldset legend="Applies to (empty: all)" variant="filled">
          <Stack gap="xs">
            <MultiSelect
              label="Channels"
              data={channels.map((c) => ({ value: c.id, label: c.name }))}
              value={form.channel_ids}
              onChange={(channel_ids) => set({ channel_ids })}
              searchable
              error={error?.field("conditions.channel_ids")}
            />
            <MultiSelect
              label="Teams"
              data={teams.map((t) => ({ value: t.id, label: t.name }))}
              value={form.team_ids}
              onChange={(team_ids) => set({ team_ids })}
              searchable
              error={error?.field("conditions.team_ids")}
            />
            <MultiSelect
              label="Priorities"
              data={PRIORITIES.map((p) => ({ value: p, label: label(p) }))}
              value={form.priorities}
              onChange={(priorities) => set({ priorities })}
              error={error?.field("conditions.priorities")}
            />
          </Stack>
        </Fieldset>
        <FormActions onCancel={onCancel} busy={save.busy} save="Save policy" />
      </Stack>
    </form>
  );
}
