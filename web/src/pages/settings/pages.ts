/** The settings pages, and what a member needs to see each (the API refuses the rest). */

export interface SettingsPage {
  path: string;
  label: string;
  description: string;
  /** Any one of these permissions shows the page; none: everyone. */
  needs: string[];
}

export const SETTINGS_PAGES: SettingsPage[] = [
  { path: "profile", label: "Profile and security", description: "Your name, password, two-step verification and sessions", needs: [] },
  { path: "account", label: "Account", description: "Name, time zone and business hours", needs: ["settings:read"] },
  { path: "members", label: "Team members", description: "Who works in this account, invitations and roles", needs: ["members:read"] },
  { path: "roles", label: "Roles and permissions", description: "Custom roles and what each may do", needs: ["members:read"] },
  { path: "channels", label: "Channels", description: "Where conversations come from, and who works each inbox", needs: ["conversations:read"] },
  { path: "canned-responses", label: "Canned responses", description: "Replies agents insert by short code", needs: ["conversations:read"] },
  { path: "templates", label: "Message templates", description: "Reusable messages with variables", needs: ["conversations:read"] },
  { path: "sla-policies", label: "SLA policies", description: "Response and resolution targets", needs: ["conversations:read"] },
];

export function visiblePages(permissions: string[]): SettingsPage[] {
  const held = new Set(permissions);
  return SETTINGS_PAGES.filter((page) => page.needs.length === 0 || page.needs.some((p) => held.has(p)));
}
