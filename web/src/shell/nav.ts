/** The console's sections, and what a member needs to see each. */

export interface Section {
  path: string;
  label: string;
  /** Any one of these permissions shows the section. */
  needs: string[];
}

export const SECTIONS: Section[] = [
  { path: "dashboard", label: "Dashboard", needs: [] },
  { path: "inbox", label: "Inbox", needs: ["conversations:read"] },
  { path: "contacts", label: "Contacts", needs: ["contacts:read"] },
  { path: "automation", label: "Automation", needs: ["automation:read"] },
  { path: "settings", label: "Settings", needs: [] },
];

export function visibleSections(permissions: string[]): Section[] {
  const held = new Set(permissions);
  return SECTIONS.filter((section) => section.needs.length === 0 || section.needs.some((p) => held.has(p)));
}

/** Breadcrumbs for a path inside an account: `/a/<id>/contacts/<contact>` → Contacts › … */
export function crumbs(pathname: string, accountId: string, names: Record<string, string> = {}): { label: string; to: string }[] {
  const base = `/a/${accountId}`;
  if (!pathname.startsWith(base)) return [];
  const parts = pathname.slice(base.length).split("/").filter(Boolean);
  return parts.map((part, index) => {
    const to = `${base}/${parts.slice(0, index + 1).join("/")}`;
    const section = SECTIONS.find((s) => s.path === part && index === 0);
    const label = names[part] ?? section?.label ?? humanise(part);
    return { label, to };
  });
}

/** Page names that humanising a path segment would get wrong. */
const LABELS: Record<string, string> = {
  "sla-policies": "SLA policies",
  mfa: "Two-step verification",
  new: "New",
};

function humanise(part: string): string {
  if (LABELS[part]) return LABELS[part];
  if (/^[0-9a-f-]{36}$/i.test(part)) return "Details";
  const words = decodeURIComponent(part).replace(/[-_]/g, " ");
  return words.charAt(0).toUpperCase() + words.slice(1);
}
