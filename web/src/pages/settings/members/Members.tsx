/** Team members: who works in the account, inviting more, changing roles, removing. */

import { Pagination, Stack, Title } from "@mantine/core";
import { useState } from "react";
import { api, type Page } from "../../../api/client";
import { useAuth } from "../../../auth/AuthContext";
import { useAccount } from "../../../lib/account";
import { Status } from "../../../lib/Status";
import { useResource } from "../../../lib/useResource";
import type { RoleOut } from "../roles";
import { PageTitle } from "../ui";
import { InviteForm } from "./InviteForm";
import { Invitations } from "./Invitations";
import { MemberList } from "./MemberList";
import type { Invitation, Member } from "./types";

const PER_PAGE = 50;

export function Members() {
  const { account, url, can } = useAccount();
  const { context } = useAuth();
  const [page, setPage] = useState(1);
  const members = useResource(
    (signal) => api.get<Page<Member>>(url("/members"), { page, per_page: PER_PAGE }, signal),
    [account.id, page],
  );
  const invitations = useResource((signal) => api.get<{ items: Invitation[] }>(url("/invitations"), undefined, signal), [account.id]);
  const roles = useResource((signal) => api.get<{ items: RoleOut[] }>(url("/roles"), undefined, signal), [account.id]);
  const manage = can("members:manage");
  const ready = members.data !== undefined && invitations.data !== undefined && roles.data !== undefined;

  return (
    <>
      <PageTitle title="Team members" description={`The people who work in ${account.name}, and the invitations on their way.`} />
      <Status
        ready={ready}
        error={members.error ?? invitations.error ?? roles.error}
        retry={() => {
          void members.reload();
          void invitations.reload();
          void roles.reload();
        }}
      >
        {ready && (
          <Stack gap="xl">
            {manage && <InviteForm roles={roles.data!.items} onInvited={() => void invitations.reload()} />}
            {invitations.data!.items.length > 0 && (
              <Invitations invitations={invitations.data!.items} manage={manage} onChange={() => void invitations.reload()} />
            )}
            <section aria-labelledby="members-heading">
              <Title order={2} size="h4" mb="sm" id="members-heading">
                Members ({members.data!.meta.total})
              </Title>
              <MemberList
                members={members.data!.items}
                roles={roles.data!.items}
                manage={manage}
                selfId={context?.user.id}
                onChange={() => void members.reload()}
              />
              {members.data!.meta.pages > 1 && (
                <Pagination mt="md" total={members.data!.meta.pages} value={page} onChange={setPage} aria-label="Pages of members" />
              )}
            </section>
          </Stack>
        )}
      </Status>
    </>
  );
}
