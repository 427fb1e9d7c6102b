/**
 * The account's rules in the order they run: switch each on or off, drag one (or, from
 * its handle, Space then the arrow keys) to change the order, which is saved at once.
 */

import { DndContext, KeyboardSensor, MeasuringStrategy, PointerSensor, closestCenter, useSensor, useSensors, type DragEndEvent } from "@dnd-kit/core";
import { SortableContext, arrayMove, sortableKeyboardCoordinates, useSortable, verticalListSortingStrategy } from "@dnd-kit/sortable";
import { CSS } from "@dnd-kit/utilities";
import { ActionIcon, Alert, Badge, Button, Card, Group, Stack, Switch, Text, Title } from "@mantine/core";
import { useState } from "react";
import { Link } from "react-router-dom";
import { api } from "../../api/client";
import { ApiError, describe } from "../../api/errors";
import { useAccount } from "../../lib/account";
import { Status } from "../../lib/Status";
import { useResource } from "../../lib/useResource";
import type { Rule } from "./rules";

export function RuleList() {
  const { url, base, can, account } = useAccount();
  const writable = can("automation:write");
  const rules = useResource(() => api.get<{ items: Rule[] }>(url("/automation/rules")), [account.id]);
  const [problem, setProblem] = useState<{ id: string | null; message: string } | null>(null);
  const [announcement, setAnnouncement] = useState("");
  const sensors = useSensors(useSensor(PointerSensor), useSensor(KeyboardSensor, { coordinateGetter: sortableKeyboardCoordinates }));
  const items = rules.data?.items ?? [];

  const toggle = async (rule: Rule, enabled: boolean) => {
    setProblem(null);
    try {
      const changed = await api.patch<Rule>(url(`/automation/rules/${rule.id}`), { enabled });
      rules.setData({ items: items.map((r) => (r.id === rule.id ? changed : r)) });
    } catch (error) {
      setProblem({ id: rule.id, message: describe(error) });
    }
  };

  const reorder = async ({ active, over }: DragEndEvent) => {
    if (!over || active.id === over.id) return;
    const from = items.findIndex((r) => r.id === active.id);
    const to = items.findIndex((r) => r.id === over.id);
    const next = arrayMove(items, from, to);
    rules.setData({ items: next });
    setProblem(null);
    try {
      const saved = await api.put<{ items: Rule[] }>(url("/automation/rules/order"), { rule_ids: next.map((r) => r.id) });
      rules.setData(saved);
      setAnnouncement(`Order saved: ${next[to].name} now runs ${ordinal(to + 1)}.`);
    } catch (error) {
      rules.setData({ items });
      setProblem({ id: null, message: error instanceof ApiError ? describe(error) : "The order could not be saved." });
    }
  };

  return (
    <>
      <Group justify="space-between" mb="md">
        <Title order={1} size="h2">
          Automation
        </Title>
        {writable && (
          <Button component={Link} to={`${base}/automation/new`}>
            New rule
          </Button>
        )}
      </Group>
      <Text size="sm" c="dimmed" mb="md">
        Rules run in this order on each event. {writable && "Drag a rule by its handle (or focus the handle, press Space, then the arrow keys) to move it."}
      </Text>
      <div role="status" aria-live="polite" className="visually-hidden">
        {announcement}
      </div>
      {problem && problem.id === null && (
        <Alert color="red" role="alert" mb="md" title="Not done">
          {problem.message}
        </Alert>
      )}
      <Status ready={rules.data !== undefined} error={rules.error} retry={rules.reload}>
        {items.length === 0 ? (
          <Text c="dimmed">No rule yet.</Text>
        ) : (
          <DndContext
            sensors={sensors}
            collisionDetection={closestCenter}
            // Measured up front, so a key pressed right after picking a rule up moves it.
            measuring={{ droppable: { strategy: MeasuringStrategy.Always } }}
            onDragEnd={(event) => void reorder(event)}
            accessibility={{ announcements: announcements(items), screenReaderInstructions: { draggable: INSTRUCTIONS } }}
          >
            <SortableContext items={items.map((r) => r.id)} strategy={verticalListSortingStrategy}>
              <Stack gap="xs" component="ol" aria-label="Rules in run order" style={{ listStyle: "none", padding: 0, margin: 0 }}>
                {items.map((rule, index) => (
                  <RuleRow
                    key={rule.id}
                    rule={rule}
                    position={index + 1}
                    writable={writable}
                    to={`${base}/automation/${rule.id}`}
                    onToggle={(enabled) => void toggle(rule, enabled)}
                    problem={problem?.id === rule.id ? problem.message : undefined}
                  />
                ))}
              </Stack>
            </SortableContext>
          </DndContext>
        )}
      </Status>
    </>
  );
}

const INSTRUCTIONS = "To move a rule, press Space, then the arrow keys; Space again drops it there, Escape cancels.";

/** What screen readers hear while a rule is moved, by the rules' names. */
function announcements(items: Rule[]) {
  const name = (id: string | number | undefined) => items.find((r) => r.id === id)?.name ?? "the rule";
  const place = (id: string | number | undefined) => items.findIndex((r) => r.id === id) + 1;
  return {
    onDragStart: ({ active }: { active: { id: string | number } }) => `Picked up ${name(active.id)}.`,
    onDragOver: ({ active, over }: { active: { id: string | number }; over: { id: string | number } | null }) =>
      over ? `${name(active.id)} is at position ${place(over.id)}.` : `${name(active.id)} is no longer over a position.`,
    onDragEnd: ({ active, over }: { active: { id: string | number }; over: { id: string | number } | null }) =>
      over ? `${name(active.id)} was dropped at position ${place(over.id)}.` : `${name(active.id)} was dropped.`,
    onDragCancel: ({ active }: { active: { id: string | number } }) => `Moving ${name(active.id)} was cancelled.`,
  };
}

function ordinal(n: number): string {
  const suffix = n % 10 === 1 && n % 100 !== 11 ? "st" : n % 10 === 2 && n % 100 !== 12 ? "nd" : n % 10 === 3 && n % 100 !== 13 ? "rd" : "th";
  return `${n}${suffix}`;
}

interface RowProps {
  rule: Rule;
  position: number;
  writable: boolean;
  to: string;
  onToggle: (enabled: boolean) => void;
  problem?: string;
}

function RuleRow({ rule, position, writable, to, onToggle, problem }: RowProps) {
  const { attributes, listeners, setNodeRef, setActivatorNodeRef, transform, transition, isDragging } = useSortable({ id: rule.id, disabled: !writable });
  const trigger = rule.schedule ? `${rule.schedule.type} after ${rule.schedule.minutes} min` : rule.events.join(", ");
  return (
    <li ref={setNodeRef} style={{ transform: CSS.Transform.toString(transform), transition, zIndex: isDragging ? 2 : undefined, position: "relative" }}>
      <Card withBorder padding="sm" shadow={isDragging ? "md" : undefined}>
        <Group wrap="nowrap" gap="sm" align="center">
          {writable && (
            <ActionIcon
              ref={setActivatorNodeRef}
              variant="subtle"
              color="gray"
              aria-label={`Move ${rule.name} (position ${position})`}
              style={{ cursor: "grab", touchAction: "none" }}
              {...attributes}
              {...listeners}
            >
              <svg width="16" height="16" viewBox="0 0 24 24" fill="currentColor" aria-hidden="true">
                <circle cx="9" cy="6" r="1.6" />
                <circle cx="15" cy="6" r="1.6" />
                <circle cx="9" cy="12" r="1.6" />
                <circle cx="15" cy="12" r="1.6" />
                <circle cx="9" cy="18" r="1.6" />
                <circle cx="15" cy="18" r="1.6" />
              </svg>
            </ActionIcon>
          )}
          <Stack gap={2} style={{ flex: 1, minWidth: 0 }}>
            <Group gap="xs" wrap="wrap">
              <Text component={Link} to={to} fw={600} c="blue.8" truncate>
                {rule.name}
              </Text>
              {rule.disabled_reason && (
                <Badge color="red.9" title={rule.disabled_reason}>
                  switched off after failures
                </Badge>
              )}
            </Group>
            <Text size="xs" c="dimmed" truncate>
              {position}. {trigger} · {rule.actions.length} action{rule.actions.length === 1 ? "" : "s"} · version {rule.version}
            </Text>
            {problem && (
              <Text size="sm" c="red" role="alert">
                {problem}
              </Text>
            )}
          </Stack>
          <Switch aria-label={`Enabled: ${rule.name}`} checked={rule.enabled} disabled={!writable} onChange={(e) => onToggle(e.currentTarget.checked)} />
        </Group>
      </Card>
    </li>
  );
}
