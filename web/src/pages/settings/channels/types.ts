import type { ConfigValue } from "./config";

export const CHANNEL_TYPES = [
  { value: "email", label: "Email" },
  { value: "sms", label: "SMS" },
  { value: "in_app", label: "In-app chat" },
  { value: "webhook", label: "Webhook" },
];

export interface Channel {
  id: string;
  type: string;
  name: string;
  config: Record<string, ConfigValue>;
  enabled: boolean;
  created_at: string;
  updated_at: string;
}

export function typeLabel(type: string): string {
  return CHANNEL_TYPES.find((t) => t.value === type)?.label ?? type;
}
