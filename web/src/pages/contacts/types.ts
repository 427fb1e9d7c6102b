/** The API's shapes the contacts screens read (as documented in /openapi.json). */

export interface Contact {
  id: string;
  name: string;
  email: string | null;
  phone: string | null;
  company: string | null;
  custom_fields: Record<string, unknown>;
  created_at: string;
  updated_at: string;
}

/** A contact as `GET …/contacts` (and `GET …/contacts/<id>`) answer it: with its tag names, sorted. */
export interface ListedContact extends Contact {
  tags: string[];
}

export type CustomFieldType =
  | "text"
  | "number"
  | "date"
  | "boolean"
  | "single_select"
  | "multi_select"
  | "url"
  | "email"
  | "phone";

/** `GET …/custom-fields?entity=contact`: one definition. */
export interface CustomField {
  id: string;
  entity: "contact" | "conversation";
  key: string;
  label: string;
  type: CustomFieldType;
  required: boolean;
  regex: string | null;
  options: string[];
  position: number;
  description: string | null;
}

export interface Segment {
  id: string;
  name: string;
  description: string;
  contact_count: number | null;
  problem: { at: string; message: string } | null;
}

export interface AuditEntry {
  id: string;
  occurred_at: string;
  actor_type: "user" | "api_token" | "automation" | "system";
  actor_id: string | null;
  action: string;
  target_type: string;
  target_id: string | null;
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
}

export interface ConversationSummary {
  id: string;
  status: string;
  priority: string;
  subject: string | null;
  last_activity_at: string;
  tags: string[];
}

export interface Member {
  user_id: string;
  name: string;
  email: string;
}
