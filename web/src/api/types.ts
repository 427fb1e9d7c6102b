/** The API's shapes the console relies on (as documented in /openapi.json). */

export interface User {
  id: string;
  email: string;
  name: string;
  created_at: string;
  avatar_url?: string | null;
  email_verified?: boolean;
}

export interface Account {
  id: string;
  name: string;
  slug: string;
  status: "active" | "suspended";
  plan: string;
}

export interface AccountAccess extends Account {
  role: "owner" | "admin" | "agent";
  custom_role: { id: string; name: string } | null;
  permissions: string[];
}

export interface Context {
  user: User;
  accounts: AccountAccess[];
}

export interface LoginAnswer {
  mfa_required: boolean;
  mfa_token?: string;
  access_token?: string;
  refresh_token?: string;
  expires_in?: number;
  session_id?: string;
}
