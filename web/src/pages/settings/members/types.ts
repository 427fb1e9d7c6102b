/** The members page's API shapes (see api/members.py and api/invitations.py). */

export interface Member {
  user_id: string;
  name: string;
  email: string;
  avatar_url: string | null;
  role: string;
  custom_role: { id: string; name: string } | null;
  joined_at: string;
}

export interface Invitation {
  id: string;
  email: string;
  role: string;
  custom_role: { id: string; name: string } | null;
  status: "pending" | "expired";
  created_at: string;
  expires_at: string;
  last_sent_at: string;
  send_count: number;
}
