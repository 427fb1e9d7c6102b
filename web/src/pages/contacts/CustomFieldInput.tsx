/** One custom field in the contact form, with the input its type calls for. */

import { Checkbox, MultiSelect, NumberInput, Select, TextInput } from "@mantine/core";
import type { CustomValue } from "./form";
import type { CustomField } from "./types";

export function CustomFieldInput({
  definition,
  value,
  error,
  onChange,
}: {
  definition: CustomField;
  value: CustomValue;
  error?: string;
  onChange: (value: CustomValue) => void;
}) {
  const common = {
    label: definition.label,
    description: definition.description ?? undefined,
    required: definition.required,
    error,
  };
  switch (definition.type) {
    case "boolean":
      return <Checkbox {...common} checked={value === true} onChange={(event) => onChange(event.currentTarget.checked)} />;
    case "number":
      return <NumberInput {...common} value={typeof value === "number" || typeof value === "string" ? value : ""} onChange={(v) => onChange(v)} />;
    case "single_select":
      return (
        <Select
          {...common}
          data={definition.options}
          value={typeof value === "string" ? value : null}
          onChange={(v) => onChange(v)}
          clearable={!definition.required}
          placeholder="Choose…"
        />
      );
    case "multi_select":
      return <MultiSelect {...common} data={definition.options} value={Array.isArray(value) ? value : []} onChange={(v) => onChange(v)} clearable />;
    default: {
      const types = { date: "date", url: "url", email: "email", phone: "tel", text: "text" } as const;
      return (
        <TextInput
          {...common}
          type={types[definition.type]}
          inputMode={definition.type === "phone" ? "tel" : undefined}
          placeholder={definition.type === "url" ? "https://" : undefined}
          value={typeof value === "string" ? value : ""}
          onChange={(event) => onChange(event.currentTarget.value)}
        />
      );
    }
  }
}
