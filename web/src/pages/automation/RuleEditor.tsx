/**
 * The rule editor: name, trigger, conditions (builder and JSONLogic), actions and
 * options; saved as a new rule or as the rule's next version. The API's refusals are
 * shown next to the part of the rule they name.
 */

import { Alert, Button, Card, Checkbox, Group, MultiSelect, NumberInput, SegmentedControl, Select, Stack, Switch, Text, Textarea, TextInput, Title } from "@mantine/core";
import type { Config } from "@react-awesome-query-builder/ui";
import { useMemo, useState } from "react";
import { api } from "../../api/client";
import { useAccount } from "../../lib/account";
import { FormError } from "../../lib/FormError";
import { useSubmit } from "../../lib/useSubmit";
import { ActionsEditor } from "./ActionsEditor";
import type { Catalogue } from "./catalogue";
import { ConditionsEditor, currentConditions, initialConditions, type ConditionsState } from "./ConditionsEditor";
import type { Lists } from "./data";
import { cleanParams, chosenOneOf, ruleErrors, type Rule, type RuleDraft, type RuleErrors } from "./rules";
import { TestPanel } from "./TestPanel";

interface Props {
  catalogue: Catalogue;
  config: Config;
  lists: Lists;
  rule: Rule | null;
  initial: RuleDraft;
  onSaved: (rule: Rule) => void;
}

export function RuleEditor({ catalogue, config, lists, rule, initial, onSaved }: Props) {
  const { url, can } = useAccount();
  const writable = can("automation:write");
  const [draft, setDraft] = useState<RuleDraft>(initial);
  const [conditions, setConditions] = useState<ConditionsState>(() => initialConditions(initial.conditions, config));
  const [conditionsError, setConditionsError] = useState<string | undefined>();
  const set = <K extends keyof RuleDraft>(key: K, value: RuleDraft[K]) => setDraft((d) => ({ ...d, [key]: value }));
  const timed = draft.schedule !== null;

  /** The rule as it would be saved, or null (and a message) when the conditions are not ready. */
  const definition = (): RuleDraft | null => {
    const current = currentConditions(conditions, config);
    setConditionsError(current.error);
    if (current.error) return null;
    return {
      ...draft,
      events: timed ? [] : draft.events,
      conditions: current.conditions,
      actions: draft.actions.map((action) => {
        const spec = catalogue.actions.find((a) => a.type === action.type);
        return { type: action.type, params: cleanParams(spec, action.params, chosenOneOf(spec, action.params)) };
      }),
    };
  };

  const save = useSubmit(async () => {
    const body = definition();
    if (!body) return;
    const answer = rule ? await api.patch<Rule>(url(`/automation/rules/${rule.id}`), body) : await api.post<Rule>(url("/automation/rules"), body);
    onSaved(answer);
  });
  const errors = useMemo(() => ruleErrors(save.error), [save.error]);

  return (
    <Stack gap="md">
      <form
        onSubmit={(event) => {
          event.preventDefault();
          void save.run();
        }}
        aria-label="Rule"
      >
        <Stack gap="md">
          <Card withBorder>
            <Stack gap="sm">
              <TextInput label="Name" required value={draft.name} onChange={(e) => set("name", e.currentTarget.value)} error={errors.name} maxLength={200} />
              <Textarea label="Description" value={draft.description} onChange={(e) => set("description", e.currentTarget.value)} error={errors.description} autosize minRows={1} />
              <Group gap="lg">
                <Switch label="Enabled" checked={draft.enabled} onChange={(e) => set("enabled", e.currentTarget.checked)} />
                <Checkbox label="Stop later rules when this one matches" checked={draft.stop_processing} onChange={(e) => set("stop_processing", e.currentTarget.checked)} />
                <Checkbox label="Also log evaluations that do not match" checked={draft.log_misses} onChange={(e) => set("log_misses", e.currentTarget.checked)} />
              </Group>
              {rule?.disabled_reason && (
                <Alert color="orange" title="Switched off by the engine">
                  {rule.disabled_reason}
                </Alert>
              )}
            </Stack>
          </Card>

          <Card withBorder>
            <Title order={2} size="h4" mb="xs">
              When
            </Title>
            <Stack gap="sm">
              <SegmentedControl
                aria-label="Trigger"
                data={[
                  { value: "events", label: "On events" },
                  { value: "schedule", label: "On a schedule" },
                ]}
                value={timed ? "schedule" : "events"}
                onChange={(kind) => set("schedule", kind === "schedule" ? { type: Object.keys(catalogue.schedules)[0] ?? "idle", minutes: 30 } : null)}
                w="fit-content"
              />
              {timed ? (
                <Group align="flex-start" grow wrap="wrap">
                  <Select
                    label="Schedule"
                    data={Object.entries(catalogue.schedules).map(([value, description]) => ({ value, label: `${value}: ${description}` }))}
                    value={draft.schedule?.type ?? null}
                    onChange={(type) => type && set("schedule", { type, minutes: draft.schedule?.minutes ?? 30 })}
                    allowDeselect={false}
                    error={errors.trigger}
                  />
                  <NumberInput
                    label="Minutes"
                    min={1}
                    value={draft.schedule?.minutes ?? 30}
                    onChange={(minutes) => set("schedule", { type: draft.schedule?.type ?? "idle", minutes: Number(minutes) || 0 })}
                  />
                </Group>
              ) : (
                <MultiSelect label="Events" data={catalogue.events} value={draft.events} onChange={(events) => set("events", events)} error={errors.trigger} searchable placeholder={draft.events.length ? undefined : "Pick the events"} />
              )}
            </Stack>
          </Card>

          <Card withBorder>
            <Title order={2} size="h4" mb="xs">
              If
            </Title>
            <Text size="sm" c="dimmed" mb="xs">
              Without a condition, the rule runs on every event it listens to. Groups combine conditions with And or Or; Not negates a group.
            </Text>
            <ConditionsEditor config={config} state={conditions} onChange={setConditions} error={conditionsError ?? errors.conditions} />
          </Card>

          <Card withBorder>
            <Title order={2} size="h4" mb="xs">
              Then
            </Title>
            <ActionsEditor actions={draft.actions} types={catalogue.actions} lists={lists} errors={errors} onChange={(actions) => set("actions", actions)} readOnly={!writable} />
          </Card>

          {errors.other && <FormError error={save.error} />}
          {save.error && !errors.other && (
            <Text c="red" size="sm" role="alert">
              {placed(errors) ? "Not saved: see the messages next to the parts of the rule." : `Not saved: ${save.error.message}`}
            </Text>
          )}
          {writable && (
            <Group>
              <Button type="submit" loading={save.busy}>
                {rule ? "Save rule" : "Create rule"}
              </Button>
            </Group>
          )}
        </Stack>
      </form>
      {writable && <TestPanel catalogue={catalogue} lists={lists} definition={definition} />}
    </Stack>
  );
}

/** Whether a refusal is shown next to a part of the rule. */
function placed(errors: RuleErrors): boolean {
  return Boolean(errors.name || errors.description || errors.trigger || errors.conditions || errors.actionList || Object.keys(errors.actions).length);
}
