/**
 * The list's filters as rows of field, operator and value, built from the fields the list
 * allows (custom fields included). Rows are edited here and applied together, so a half
 * written row never reaches the API.
 */

import { ActionIcon, Button, Group, MultiSelect, Select, Stack, Text, TextInput } from "@mantine/core";
import { useEffect, useState, type FormEvent } from "react";
import { opLabel, type ListField, type Op } from "./fields";
import { filterExpression, type FilterRow } from "./query";

export function FilterEditor({ fields, applied, onApply }: { fields: ListField[]; applied: FilterRow[]; onApply: (rows: FilterRow[]) => void }) {
  const [rows, setRows] = useState<FilterRow[]>(applied.length ? applied : [blank()]);
  const appliedKey = JSON.stringify(applied);
  useEffect(() => setRows(applied.length ? applied : [blank()]), [appliedKey]); // back/forward

  const change = (index: number, row: FilterRow) => setRows((old) => old.map((r, i) => (i === index ? row : r)));
  const submit = (event: FormEvent) => {
    event.preventDefault();
    onApply(rows.filter((row) => filterExpression(row) !== null));
  };

  return (
    <form onSubmit={submit} aria-label="Filters">
      <Stack gap="xs">
        {rows.map((row, index) => (
          <FilterRowEditor
            key={index}
            index={index}
            row={row}
            fields={fields}
            onChange={(next) => change(index, next)}
            onRemove={() => setRows((old) => old.filter((_, i) => i !== index))}
          />
        ))}
        {rows.length === 0 && (
          <Text size="sm" c="dimmed">
            No filters.
          </Text>
        )}
        <Group gap="xs">
          <Button variant="default" size="xs" onClick={() => setRows((old) => [...old, blank()])}>
            Add filter
          </Button>
          <Button type="submit" size="xs">
            Apply filters
          </Button>
          {applied.length > 0 && (
            <Button variant="subtle" size="xs" onClick={() => onApply([])}>
              Clear filters
            </Button>
          )}
        </Group>
      </Stack>
    </form>
  );
}

function blank(): FilterRow {
  return { field: "", op: "", value: "" };
}

function FilterRowEditor({
  index,
  row,
  fields,
  onChange,
  onRemove,
}: {
  index: number;
  row: FilterRow;
  fields: ListField[];
  onChange: (row: FilterRow) => void;
  onRemove: () => void;
}) {
  const field = fields.find((f) => f.name === row.field);
  const number = index + 1;
  const builtIn = fields.filter((f) => !f.name.startsWith("custom_fields."));
  const custom = fields.filter((f) => f.name.startsWith("custom_fields."));
  const fieldData = [
    { group: "Contact", items: builtIn.map((f) => ({ value: f.name, label: f.label })) },
    ...(custom.length ? [{ group: "Custom fields", items: custom.map((f) => ({ value: f.name, label: f.label })) }] : []),
  ];
  return (
    <Group gap="xs" align="flex-end" wrap="wrap">
      <Select
        aria-label={`Filter ${number}: field`}
        placeholder="Field"
        data={fieldData}
        value={row.field || null}
        onChange={(name) => {
          const next = fields.find((f) => f.name === name);
          onChange({ field: name ?? "", op: next?.ops[0] ?? "", value: "" });
        }}
        w={{ base: "100%", xs: 170 }}
        searchable
      />
      <Select
        aria-label={`Filter ${number}: operator`}
        placeholder="Operator"
        data={(field?.ops ?? []).map((op) => ({ value: op, label: opLabel(field, op) }))}
        value={row.op || null}
        onChange={(op) => onChange({ ...row, op: (op ?? "") as Op | "", value: op === "isnull" ? "true" : row.value })}
        disabled={!field}
        allowDeselect={false}
        w={{ base: "100%", xs: 170 }}
      />
      <ValueInput label={`Filter ${number}: value`} field={field} row={row} onChange={(value) => onChange({ ...row, value })} />
      <ActionIcon variant="subtle" color="gray" size="lg" aria-label={`Remove filter ${number}`} onClick={onRemove}>
        <span aria-hidden="true">✕</span>
      </ActionIcon>
    </Group>
  );
}

function ValueInput({ label, field, row, onChange }: { label: string; field?: ListField; row: FilterRow; onChange: (value: string) => void }) {
  const common = { "aria-label": label, w: { base: "100%", xs: 200 }, disabled: !field || !row.op };
  if (row.op === "isnull") {
    const data = [
      { value: "true", label: "no value" },
      { value: "false", label: "any value" },
    ];
    return <Select {...common} data={data} value={row.value || "true"} onChange={(v) => onChange(v ?? "true")} allowDeselect={false} />;
  }
  if (field?.kind === "option") {
    if (row.op === "in") {
      return <MultiSelect {...common} data={field.options ?? []} value={row.value ? row.value.split(",") : []} onChange={(v) => onChange(v.join(","))} />;
    }
    return <Select {...common} placeholder="Value" data={field.options ?? []} value={row.value || null} onChange={(v) => onChange(v ?? "")} />;
  }
  if (field?.kind === "boolean") {
    const data = [
      { value: "true", label: "Yes" },
      { value: "false", label: "No" },
    ];
    return <Select {...common} placeholder="Value" data={data} value={row.value || null} onChange={(v) => onChange(v ?? "")} />;
  }
  const listed = row.op === "in";
  const type = listed ? "text" : field?.kind === "date" ? "date" : field?.kind === "number" ? "number" : "text";
  return (
    <TextInput
      {...common}
      type={type}
      placeholder={listed ? "Values, comma-separated" : "Value"}
      value={row.value}
      onChange={(event) => onChange(event.currentTarget.value)}
    />
  );
}
