/** The settings section: an index of the pages the member may see, and each page. */

import { Card, SimpleGrid, Text, UnstyledButton } from "@mantine/core";
import { Link, Route, Routes } from "react-router-dom";
import { useAccount } from "../../lib/account";
import { NotFound } from "../NotFound";
import { AccountSettings } from "./account/AccountSettings";
import { Channels } from "./channels/Channels";
import { Members } from "./members/Members";
import { visiblePages } from "./pages";
import { Profile } from "./profile/Profile";
import { CannedResponses } from "./replies/CannedResponses";
import { Templates } from "./replies/Templates";
import { Roles } from "./roles/Roles";
import { SlaPolicies } from "./sla/SlaPolicies";
import { PageTitle } from "./ui";

export function Settings() {
  return (
    <Routes>
      <Route index element={<SettingsIndex />} />
      <Route path="profile" element={<Profile />} />
      <Route path="account" element={<AccountSettings />} />
      <Route path="members" element={<Members />} />
      <Route path="roles" element={<Roles />} />
      <Route path="channels" element={<Channels />} />
      <Route path="canned-responses" element={<CannedResponses />} />
      <Route path="templates" element={<Templates />} />
      <Route path="sla-policies" element={<SlaPolicies />} />
      <Route path="*" element={<NotFound />} />
    </Routes>
  );
}

function SettingsIndex() {
  const { account, base } = useAccount();
  return (
    <>
      <PageTitle title="Settings" />
      <SimpleGrid cols={{ base: 1, sm: 2, lg: 3 }} component="ul" style={{ listStyle: "none", padding: 0 }}>
        {visiblePages(account.permissions).map((page) => (
          <li key={page.path}>
            <UnstyledButton component={Link} to={`${base}/settings/${page.path}`} w="100%" h="100%">
              <Card withBorder padding="lg" radius="md" h="100%">
                <Text fw={600} c="blue.8">
                  {page.label}
                </Text>
                <Text size="sm" c="dimmed">
                  {page.description}
                </Text>
              </Card>
            </UnstyledButton>
          </li>
        ))}
      </SimpleGrid>
    </>
  );
}
