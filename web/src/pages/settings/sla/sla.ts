/**
 * SLA policies as the API keeps them (targets in minutes per priority, a warning by
 * minutes before or by percent, conditions) and as the form edits them (text inputs).
 */

export const PRIORITIES = ["urgent", "high", "medium", "low", "none"] as const;
export const TARGETS = ["first_response", "next_response", "resolution"] as const;
export type Priority = (typeof PRIORITIES)[number];
export type Target = (typeof TARGETS)[number];

export const TARGET_NAMES: Record<Target, string> = {
  first_response: "First response",
  next_response: "Next response",
  resolution: "Resolution",
};

export interface Policy {
  id: string;
  name: string;
  description: string | null;
  enabled: boolean;
  position: number;
  hours: "business" | "calendar";
  targets: Partial<Record<string, Partial<Record<Target, number | null>>>>;
  warning: { minutes_before?: number; percent?: number } | null;
  conditions: { channel_ids: string[]; team_ids: string[]; priorities: string[] };
}

export interface PolicyForm {
  name: string;
  description: string;
  enabled: boolean;
  hours: "business" | "calendar";
  /** Minutes as typed, "" for not measured. */
  targets: Record<Priority, Record<Target, string>>;
  warning: "none" | "minutes_before" | "percent";
  warningValue: string;
  channel_ids: string[];
  team_ids: string[];
  priorities: string[];
}

export function emptyForm(): PolicyForm {
  return fromApi(null);
}

export function fromApi(policy: Policy | null): PolicyForm {
  const targets = Object.fromEntries(
    PRIORITIES.map((p) => [p, Object.fromEntries(TARGETS.map((t) => [t, String(policy?.targets[p]?.[t] ?? "")]))]),
  ) as PolicyForm["targets"];
  const warning = policy?.warning?.percent !== undefined ? "percent" : policy?.warning?.minutes_before !== undefined ? "minutes_before" : "none";
  return {
    name: policy?.name ?? "",
    description: policy?.description ?? "",
    enabled: policy?.enabled ?? true,
    hours: policy?.hours ?? "business",
    targets,
    warning,
    warningValue: warning === "none" ? "" : String(policy?.warning?.[warning] ?? ""),
    channel_ids: policy?.conditions.channel_ids ?? [],
    team_ids: policy?.conditions.team_ids ?? [],
    priorities: policy?.conditions.priorities ?? [],
  };
}

/** A number where one was typed; other text is sent as it is, for the API to say what is wrong. */
function minutes(text: string): number | string | undefined {
  const trimmed = text.trim();
  if (!trimmed) return undefined;
  const value = Number(trimmed);
  return Number.isFinite(value) ? value : trimmed;
}

export function toApi(form: PolicyForm) {
  const targets: Record<string, Partial<Record<Target, number | string>>> = {};
  for (const p of PRIORITIES) {
    const row: Partial<Record<Target, number | string>> = {};
    for (const t of TARGETS) {
      const value = minutes(form.targets[p][t]);
      if (value !== undefined) row[t] = value;
    }
    if (Object.keys(row).length) targets[p] = row;
  }
  const warningMinutes = minutes(form.warningValue);
  return {
    name: form.name,
    description: form.description.trim() || null,
    enabled: form.enabled,
    hours: form.hours,
    targets,
    warning: form.warning === "none" ? null : { [form.warning]: warningMinutes ?? null },
    conditions: { channel_ids: form.channel_ids, team_ids: form.team_ids, priorities: form.priorities },
  };
}

/** "90" → "1 h 30 min"; "2880" → "2 d"; what the minutes typed amount to. */
export function describeMinutes(text: string): string | undefined {
  const value = minutes(text);
  if (typeof value !== "number" || value <= 0) return undefined;
  const days = Math.floor(value / 1440);
  const hours = Math.floor((value % 1440) / 60);
  const rest = value % 60;
  return [days && `${days} d`, hours && `${hours} h`, rest && `${rest} min`].filter(Boolean).join(" ");
}

/** One line about a policy's targets for the list: "Urgent: first response 15 min …". */
export function summary(policy: Policy): string {
  const parts = PRIORITIES.filter((p) => policy.targets[p] && Object.values(policy.targets[p]!).some((v) => v != null)).map((p) => {
    const t = policy.targets[p]!;
    const bits = TARGETS.filter((k) => t[k] != null).map((k) => `${TARGET_NAMES[k].toLowerCase()} ${describeMinutes(String(t[k]))}`);
    return `${p.charAt(0).toUpperCase()}${p.slice(1)}: ${bits.join(", ")}`;
  });
  return parts.length ? parts.join("; ") : "No targets";
}
