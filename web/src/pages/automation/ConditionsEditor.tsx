/**
 * The rule's conditions, in the builder and as JSONLogic side by side. The JSONLogic view
 * shows what the builder writes; edited, it is read back into the builder (or, when it
 * uses what the builder cannot show, such as a custom attribute, kept as written).
 */

import { Alert, Button, Group, JsonInput, Stack, Text } from "@mantine/core";
import type { Config, ImmutableTree } from "@react-awesome-query-builder/ui";
import { ConditionBuilder } from "./ConditionBuilder";
import { conditionsFromTree, treeFromConditions } from "./catalogue";

export interface ConditionsState {
  tree: ImmutableTree;
  /** Conditions kept as written (the builder cannot show them), else null. */
  written: string | null;
  /** JSONLogic being edited, not yet read into the builder. */
  editing: string | null;
  problem: string | null;
}

export function initialConditions(conditions: unknown, config: Config): ConditionsState {
  const { tree, errors } = treeFromConditions(conditions, config);
  if (errors.length) {
    return { tree, written: pretty(conditions), editing: null, problem: `The builder cannot show these conditions: ${errors.join("; ")}` };
  }
  return { tree, written: null, editing: null, problem: null };
}

export const pretty = (value: unknown) => JSON.stringify(value, null, 2);

/** The conditions to save or test, or an error to show instead. */
export function currentConditions(state: ConditionsState, config: Config): { conditions?: unknown; error?: string } {
  if (state.editing !== null) return { error: "Apply or discard your JSONLogic edits first." };
  if (state.written !== null) {
    try {
      return { conditions: JSON.parse(state.written) };
    } catch {
      return { error: "The JSONLogic is not valid JSON." };
    }
  }
  return { conditions: conditionsFromTree(state.tree, config).conditions };
}

interface Props {
  config: Config;
  state: ConditionsState;
  onChange: (state: ConditionsState) => void;
  error?: string;
}

export function ConditionsEditor({ config, state, onChange, error }: Props) {
  const shown = state.editing ?? state.written ?? pretty(conditionsFromTree(state.tree, config).conditions);
  const apply = () => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(state.editing ?? state.written ?? "true");
    } catch {
      onChange({ ...state, problem: "The JSONLogic is not valid JSON." });
      return;
    }
    const { tree, errors } = treeFromConditions(parsed, config);
    if (errors.length) {
      onChange({ ...state, problem: `The builder cannot show these conditions: ${errors.join("; ")}` });
      return;
    }
    onChange({ tree, written: null, editing: null, problem: null });
  };
  const keepAsWritten = () => onChange({ ...state, written: state.editing, editing: null, problem: null });
  return (
    <Stack gap="sm">
      {state.written === null ? (
        <ConditionBuilder config={config} tree={state.tree} onChange={(tree) => onChange({ ...state, tree })} />
      ) : (
        <Alert color="yellow" title="Conditions kept as JSONLogic">
          These conditions use what the builder cannot show; edit them below.
        </Alert>
      )}
      {error && (
        <Text c="red" size="sm" role="alert">
          {error}
        </Text>
      )}
      <JsonInput
        label="JSONLogic"
        description="What the builder writes, as the server evaluates it. Edit it and apply to read it back into the builder."
        value={shown}
        onChange={(text) => onChange(state.written !== null ? { ...state, written: text } : { ...state, editing: text })}
        validationError="Not valid JSON"
        autosize
        minRows={3}
        maxRows={16}
        spellCheck={false}
        styles={{ input: { fontFamily: "var(--mantine-font-family-monospace)", fontSize: 12 } }}
      />
      {state.problem && (
        <Text c="red" size="sm" role="alert">
          {state.problem}
        </Text>
      )}
      {(state.editing !== null || state.written !== null) && (
        <Group gap="xs">
          <Button size="xs" variant="light" onClick={apply}>
            {state.written !== null ? "Open in the builder" : "Apply to the builder"}
          </Button>
          {state.editing !== null && state.problem && (
            <Button size="xs" variant="subtle" onClick={keepAsWritten}>
              Keep as JSONLogic
            </Button>
          )}
          {state.editing !== null && (
            <Button size="xs" variant="subtle" color="gray" onClick={() => onChange({ ...state, editing: null, problem: null })}>
              Discard edits
            </Button>
          )}
        </Group>
      )}
    </Stack>
  );
}
