import { ActionIcon, Button, Card, Checkbox, Group, Stack, Text, TextInput, Title } from "@mantine/core";
import type { ApiError } from "../../../api/errors";
import { copyToAll, fromTimeInput, nextInterval, setOpen, toTimeInput, WEEKDAY_NAMES, type DayHours, type Interval } from "../hours";

/** Each weekday open or closed, with its opening intervals; the API's messages per day. */
export function BusinessHoursEditor({
  days,
  onChange,
  readOnly,
  error,
}: {
  days: DayHours[];
  onChange: (days: DayHours[]) => void;
  readOnly: boolean;
  error: ApiError | null;
}) {
  const setIntervals = (day: DayHours, intervals: Interval[]) =>
    onChange(days.map((d) => (d.day === day.day ? { ...d, open: intervals.length > 0, intervals } : d)));
  return (
    <Card withBorder component="fieldset" disabled={readOnly} style={{ margin: 0 }}>
      <Title order={2} size="h4" mb={4} component="legend">
        Business hours
      </Title>
      <Text size="sm" c="dimmed" mb="md">
        SLA policies measured in business hours count only these times, in the account's time zone.
      </Text>
      <Stack gap="md">
        {days.map((day) => {
          const name = WEEKDAY_NAMES[day.day];
          const dayError = error?.field(`business_hours.${day.day}`);
          return (
            <div key={day.day} role="group" aria-label={name}>
              <Group justify="space-between" wrap="wrap" gap="xs">
                <Checkbox label={`Open on ${name}`} checked={day.open} onChange={(e) => onChange(setOpen(days, day.day, e.currentTarget.checked))} />
                {!readOnly && day.open && (
                  <Button variant="subtle" size="compact-xs" onClick={() => onChange(copyToAll(days, day.day))}>
                    Use {name}'s hours every day
                  </Button>
                )}
              </Group>
              {day.open && (
                <Stack gap="xs" mt="xs" pl={{ base: 0, sm: "xl" }}>
                  {day.intervals.map((interval, index) => {
                    const change = (patch: Partial<Interval>) =>
                      setIntervals(day, day.intervals.map((i, n) => (n === index ? { ...i, ...patch } : i)));
                    const which = day.intervals.length > 1 ? ` (${index + 1})` : "";
                    return (
                      <Group key={index} gap="xs" align="flex-end" wrap="nowrap">
                        <TextInput type="time" label={`${name} opens${which}`} value={interval.start} onChange={(e) => change({ start: e.currentTarget.value })} w={150} />
                        <TextInput
                          type="time"
                          label={`${name} closes${which}`}
                          description={interval.end === "24:00" ? "Midnight" : undefined}
                          value={toTimeInput(interval.end)}
                          onChange={(e) => change({ end: fromTimeInput(e.currentTarget.value, "end") })}
                          w={150}
                        />
                        {!readOnly && (
                          <ActionIcon
                            variant="subtle"
                            color="red"
                            size="lg"
                            aria-label={`Remove ${name}'s interval ${interval.start}–${interval.end}`}
                            onClick={() => setIntervals(day, day.intervals.filter((_, n) => n !== index))}
                          >
                            ×
                          </ActionIcon>
                        )}
                      </Group>
                    );
                  })}
                  {!readOnly && (
                    <Group>
                      <Button variant="subtle" size="compact-sm" onClick={() => setIntervals(day, [...day.intervals, nextInterval(day.intervals)])}>
                        Add hours on {name}
                      </Button>
                    </Group>
                  )}
                </Stack>
              )}
              {dayError && (
                <Text c="red" size="sm" role="alert" mt={4}>
                  {name}: {dayError}
                </Text>
              )}
            </div>
          );
        })}
      </Stack>
    </Card>
  );
}
