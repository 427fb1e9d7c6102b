/**
 * Business hours as the API keeps them (`{mon: [{start, end}], …}`, a weekday left out is
 * closed) and as the form edits them: every weekday, open or closed, with its intervals.
 */

export const WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"] as const;
export type Weekday = (typeof WEEKDAYS)[number];

export const WEEKDAY_NAMES: Record<Weekday, string> = {
  mon: "Monday",
  tue: "Tuesday",
  wed: "Wednesday",
  thu: "Thursday",
  fri: "Friday",
  sat: "Saturday",
  sun: "Sunday",
};

export interface Interval {
  start: string;
  end: string;
}

export type ApiHours = Partial<Record<string, Interval[]>>;

export interface DayHours {
  day: Weekday;
  open: boolean;
  intervals: Interval[];
}

/** A new interval: 09:00–17:00, or an hour after the day's last one closes. */
export function nextInterval(intervals: Interval[]): Interval {
  const last = intervals[intervals.length - 1];
  if (!last) return { start: "09:00", end: "17:00" };
  const [h, m] = last.end.split(":").map(Number);
  const start = Math.min(h + 1, 23);
  const pad = (n: number) => String(n).padStart(2, "0");
  return { start: `${pad(start)}:${pad(m || 0)}`, end: start + 1 >= 24 ? "24:00" : `${pad(Math.min(start + 4, 23))}:${pad(m || 0)}` };
}

export function toEditable(hours: ApiHours | null | undefined): DayHours[] {
  return WEEKDAYS.map((day) => {
    const intervals = (hours?.[day] ?? []).map((i) => ({ start: i.start, end: i.end }));
    return { day, open: intervals.length > 0, intervals };
  });
}

/** The API's shape: open days with at least one interval, in weekday order. */
export function toApi(days: DayHours[]): Record<string, Interval[]> {
  const out: Record<string, Interval[]> = {};
  for (const { day, open, intervals } of days) {
    if (open && intervals.length) out[day] = intervals.map((i) => ({ start: i.start, end: i.end }));
  }
  return out;
}

/** Open a closed day (with the usual hours) or close an open one (forgetting its hours). */
export function setOpen(days: DayHours[], day: Weekday, open: boolean): DayHours[] {
  return days.map((d) => (d.day === day ? { ...d, open, intervals: open ? (d.intervals.length ? d.intervals : [nextInterval([])]) : [] } : d));
}

/** Give every weekday the intervals of `from`. */
export function copyToAll(days: DayHours[], from: Weekday): DayHours[] {
  const source = days.find((d) => d.day === from)!;
  return days.map((d) => ({ ...d, open: source.open, intervals: source.intervals.map((i) => ({ ...i })) }));
}

/**
 * A time input cannot show 24:00 (a day open until midnight): it shows 23:59, and 23:59
 * typed back means midnight.
 */
export function toTimeInput(time: string): string {
  return time === "24:00" ? "23:59" : time;
}

export function fromTimeInput(value: string, field: "start" | "end"): string {
  return field === "end" && value === "23:59" ? "24:00" : value;
}
