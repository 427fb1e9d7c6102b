/**
 * The condition builder: react-awesome-query-builder with its vanilla widgets, each
 * control labelled for assistive technology (the vanilla selects and inputs carry no
 * label of their own, so the field and operator pickers and the buttons are rendered
 * here, and each value widget gets an `aria-label`).
 */

import "@react-awesome-query-builder/ui/css/styles.css";
import "./builder.css";
import { Builder, Query, type BuilderProps, type Config, type ImmutableTree, type Widgets } from "@react-awesome-query-builder/ui";
import { Button } from "@mantine/core";
import { useCallback, type ChangeEvent } from "react";

interface SelectItem {
  key?: string;
  path?: string;
  label: string;
  items?: SelectItem[];
  disabled?: boolean;
}

interface SelectProps {
  items: SelectItem[];
  setField: (key: string) => void;
  selectedKey?: string | null;
  readonly?: boolean;
}

function LabelledSelect({ label, items, setField, selectedKey, readonly }: SelectProps & { label: string }) {
  const options = (list: SelectItem[]): React.ReactNode =>
    list.map((item) =>
      item.items ? (
        <optgroup key={item.path ?? item.key} label={item.label}>
          {options(item.items)}
        </optgroup>
      ) : (
        <option key={item.path ?? item.key} value={item.path ?? item.key} disabled={item.disabled}>
          {item.label}
        </option>
      ),
    );
  const hasValue = selectedKey !== null && selectedKey !== undefined;
  return (
    <select
      aria-label={label}
      value={hasValue ? selectedKey : ""}
      disabled={readonly}
      onChange={(event: ChangeEvent<HTMLSelectElement>) => setField(event.target.value)}
      className="qb-labelled-select"
    >
      {!hasValue && (
        <option disabled value="">
          {label}…
        </option>
      )}
      {options(items)}
    </select>
  );
}

const BUTTON_TEXT: Record<string, string> = {
  addRule: "Add condition",
  addRuleGroup: "Add condition",
  addRuleGroupExt: "Add condition",
  addGroup: "Add group",
  addSubRule: "Add condition",
  addSubRuleSimple: "Add condition",
  addSubGroup: "Add group",
  delRule: "Remove condition",
  delGroup: "Remove group",
  delRuleGroup: "Remove group",
};

interface ButtonProps {
  type: string;
  label?: string;
  onClick: () => void;
  readonly?: boolean;
}

function QbButton({ type, label, onClick, readonly }: ButtonProps) {
  const text = BUTTON_TEXT[type] ?? label ?? type;
  const removing = type.startsWith("del");
  return (
    <Button size="compact-xs" variant={removing ? "subtle" : "light"} color={removing ? "red" : "blue"} onClick={onClick} disabled={readonly}>
      {text}
    </Button>
  );
}

type Factory = (props: Record<string, unknown>, ctx: unknown) => unknown;

/** Value widgets with an accessible name. */
function labelledWidgets(widgets: Widgets): Widgets {
  const out: Widgets = {};
  for (const [name, widget] of Object.entries(widgets)) {
    const factory = (widget as unknown as { factory?: Factory }).factory;
    if (!factory) {
      out[name] = widget;
      continue;
    }
    const labelled: Factory =
      name === "boolean"
        ? (props, ctx) =>
            factory({ ...props, customProps: { radioYes: { "aria-label": "Yes" }, radioNo: { "aria-label": "No" } } }, ctx)
        : (props, ctx) => factory({ ...props, customProps: { ...(props.customProps as object), "aria-label": "Value" } }, ctx);
    out[name] = { ...widget, factory: labelled } as unknown as Widgets[string];
  }
  return out;
}

/** `config` with the labelled pickers and buttons. */
export function withLabelledControls(config: Config): Config {
  return {
    ...config,
    widgets: labelledWidgets(config.widgets),
    settings: {
      ...config.settings,
      renderField: (props: unknown) => <LabelledSelect label="Field" {...(props as SelectProps)} />,
      renderOperator: (props: unknown) => <LabelledSelect label="Test" {...(props as SelectProps)} />,
      renderButton: (props: unknown) => <QbButton {...(props as ButtonProps)} />,
    },
  } as Config;
}

export function ConditionBuilder({ config, tree, onChange }: { config: Config; tree: ImmutableTree; onChange: (tree: ImmutableTree) => void }) {
  const render = useCallback(
    (props: BuilderProps) => (
      <div className="query-builder-container">
        <div className="query-builder qb-turumba">
          <Builder {...props} />
        </div>
      </div>
    ),
    [],
  );
  return <Query {...config} value={tree} onChange={(changed) => onChange(changed)} renderBuilder={render} />;
}
