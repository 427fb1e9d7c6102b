import { useParams } from "react-router-dom";
import type { AccountAccess } from "../api/types";
import { useAuth } from "../auth/AuthContext";

/** The account the current screen works in, and its API prefix. */
export function useAccount(): { account: AccountAccess; base: string; url: (path: string) => string; can: (p: string) => boolean } {
  const { accountId } = useParams();
  const { account } = useAuth();
  const current = account(accountId);
  if (!current) throw new Error("useAccount outside an account's routes");
  const prefix = `/v1/accounts/${current.id}`;
  return {
    account: current,
    base: `/a/${current.id}`,
    url: (path) => `${prefix}${path}`,
    can: (permission) => current.permissions.includes(permission),
  };
}
