/**
 * The rule's actions, in the order they run: add, remove, move up and down, and each
 * action's parameters with a picker fit for it (agents, teams, tags, templates…).
 */

import { ActionIcon, Autocomplete, Button, Card, Group, NumberInput, SegmentedControl, Select, Stack, Text, Textarea, TextInput, Tooltip } from "@mantine/core";
import type { ActionType } from "./catalogue";
import type { Lists } from "./data";
import { actionLabel, chooseOneOf, chosenOneOf, FIXED_CHOICES, moved, PARAM_LABELS, paramKind, type RuleAction, type RuleErrors } from "./rules";

interface Props {
  actions: RuleAction[];
  types: ActionType[];
  lists: Lists;
  errors: RuleErrors;
  onChange: (actions: RuleAction[]) => void;
  readOnly?: boolean;
}

export function ActionsEditor({ actions, types, lists, errors, onChange, readOnly }: Props) {
  const set = (index: number, action: RuleAction) => onChange(actions.map((a, i) => (i === index ? action : a)));
  const spec = (type: string) => types.find((t) => t.type === type);
  return (
    <Stack gap="sm">
      {actions.length === 0 && (
        <Text c="dimmed" size="sm">
          No action yet: add what the rule does when it matches.
        </Text>
      )}
      {actions.map((action, index) => {
        const number = index + 1;
        const actionSpec = spec(action.type);
        const error = errors.actions[index];
        return (
          <Card key={index} withBorder padding="sm" role="group" aria-label={`Action ${number}`}>
            <Group align="flex-end" wrap="wrap" gap="xs">
              <Select
                label={`Action ${number}`}
                data={types.map((t) => ({ value: t.type, label: actionLabel(t.type) }))}
                value={action.type}
                onChange={(type) => type && set(index, { type, params: {} })}
                allowDeselect={false}
                searchable
                error={error?.action}
                w={{ base: "100%", sm: 260 }}
                disabled={readOnly}
              />
              <Group gap={4} ml="auto">
                <Tooltip label="Run earlier">
                  <ActionIcon variant="subtle" aria-label={`Move action ${number} up`} disabled={readOnly || index === 0} onClick={() => onChange(moved(actions, index, index - 1))}>
                    ↑
                  </ActionIcon>
                </Tooltip>
                <Tooltip label="Run later">
                  <ActionIcon
                    variant="subtle"
                    aria-label={`Move action ${number} down`}
                    disabled={readOnly || index === actions.length - 1}
                    onClick={() => onChange(moved(actions, index, index + 1))}
                  >
                    ↓
                  </ActionIcon>
                </Tooltip>
                <Button variant="subtle" color="red" size="compact-sm" aria-label={`Remove action ${number}`} disabled={readOnly} onClick={() => onChange(actions.filter((_, i) => i !== index))}>
                  Remove
                </Button>
              </Group>
            </Group>
            {actionSpec && (
              <Text size="xs" c="dimmed" mt={4}>
                {actionSpec.description}
              </Text>
            )}
            {actionSpec && (
              <Parameters action={action} spec={actionSpec} lists={lists} errors={error?.params ?? {}} onChange={(params) => set(index, { ...action, params })} readOnly={readOnly} />
            )}
          </Card>
        );
      })}
      {errors.actionList && (
        <Text c="red" size="sm" role="alert">
          {errors.actionList}
        </Text>
      )}
      {!readOnly && (
        <Group>
          <Button variant="light" onClick={() => onChange([...actions, { type: types[0]?.type ?? "add_tag", params: {} }])}>
            Add action
          </Button>
        </Group>
      )}
    </Stack>
  );
}

interface ParametersProps {
  action: RuleAction;
  spec: ActionType;
  lists: Lists;
  errors: Record<string, string>;
  onChange: (params: Record<string, unknown>) => void;
  readOnly?: boolean;
}

function Parameters({ action, spec, lists, errors, onChange, readOnly }: ParametersProps) {
  const chosen = chosenOneOf(spec, action.params);
  const shown = spec.parameters.filter((p) => !spec.one_of.includes(p.name) || p.name === chosen);
  if (spec.parameters.length === 0) return null;
  return (
    <Stack gap="xs" mt="xs">
      {spec.one_of.length > 0 && (
        <SegmentedControl
          aria-label="Which one"
          data={spec.one_of.map((name) => ({ value: name, label: PARAM_LABELS[name] ?? name }))}
          value={chosen}
          onChange={(name) => onChange(chooseOneOf(spec, action.params, name))}
          disabled={readOnly}
          w="fit-content"
        />
      )}
      <Group align="flex-start" grow preventGrowOverflow={false} wrap="wrap">
        {shown.map((param) => (
          <Parameter
            key={param.name}
            name={param.name}
            required={param.required || spec.one_of.includes(param.name)}
            value={action.params[param.name]}
            lists={lists}
            error={errors[param.name]}
            onChange={(value) => onChange({ ...action.params, [param.name]: value })}
            readOnly={readOnly}
          />
        ))}
      </Group>
    </Stack>
  );
}

interface ParameterProps {
  name: string;
  required: boolean;
  value: unknown;
  lists: Lists;
  error?: string;
  onChange: (value: unknown) => void;
  readOnly?: boolean;
}

function Parameter({ name, required, value, lists, error, onChange, readOnly }: ParameterProps) {
  const kind = paramKind(name);
  const common = { label: PARAM_LABELS[name] ?? name, required, error, disabled: readOnly, miw: 200 };
  const text = typeof value === "string" ? value : value === undefined || value === null ? "" : String(value);
  const pick = (data: { value: string; label: string }[]) => (
    <Select {...common} data={data} value={text || null} onChange={(v) => onChange(v ?? "")} searchable nothingFoundMessage="Nothing found" />
  );
  switch (kind) {
    case "member":
      return pick(lists.members ?? []);
    case "team":
      return pick(lists.teams ?? []);
    case "template":
      return pick(lists.templates);
    case "policy":
      return pick(lists.policies);
    case "strategy":
    case "status":
    case "priority":
      return pick(FIXED_CHOICES[kind] ?? []);
    case "tag":
      return <Autocomplete {...common} data={(lists.tags ?? []).map((t) => t.value)} value={text} onChange={onChange} />;
    case "minutes":
      return <NumberInput {...common} min={1} value={typeof value === "number" ? value : ""} onChange={(v) => onChange(v === "" ? "" : Number(v))} />;
    case "longtext":
      return (
        <Stack gap={4}>
          <Textarea {...common} autosize minRows={2} value={text} onChange={(e) => onChange(e.currentTarget.value)} description="Variables: {{ contact.name }}, {{ conversation.id }}…" />
          {lists.canned.length > 0 && !readOnly && (
            <Select
              aria-label="Insert a canned response"
              placeholder="Insert a canned response"
              data={lists.canned.map((c) => ({ value: c.value, label: c.label }))}
              value={null}
              onChange={(id) => {
                const canned = lists.canned.find((c) => c.value === id);
                if (canned) onChange(canned.body);
              }}
              size="xs"
              searchable
            />
          )}
        </Stack>
      );
    default:
      return <TextInput {...common} type={kind === "url" ? "url" : kind === "email" ? "email" : "text"} value={text} onChange={(e) => onChange(e.currentTarget.value)} />;
  }
}
