/**
 * The signed-in frame: a sidebar of the sections the member may see, a header with the
 * account switcher, breadcrumbs, the unread notifications badge and the user's menu.
 * Narrow screens fold the sidebar behind a menu button.
 */

import { ActionIcon, AppShell, Avatar, Badge, Box, Breadcrumbs, Burger, Group, Indicator, Menu, NavLink, Select, Text, Tooltip, UnstyledButton } from "@mantine/core";
import { useDisclosure } from "@mantine/hooks";
import { useState } from "react";
import { Link, NavLink as RouterNavLink, Outlet, useLocation, useNavigate } from "react-router-dom";
import { api } from "../api/client";
import type { AccountAccess } from "../api/types";
import { useAuth } from "../auth/AuthContext";
import { useResource } from "../lib/useResource";
import { useRealtime, useRealtimeStatus } from "../realtime/RealtimeContext";
import { CrumbNamesProvider, useCrumbNames } from "./crumbNames";
import { crumbs, visibleSections } from "./nav";
import { VerifyBanner } from "./VerifyBanner";

export function Shell({ account }: { account: AccountAccess }) {
  return (
    <CrumbNamesProvider>
      <Frame account={account} />
    </CrumbNamesProvider>
  );
}

function Frame({ account }: { account: AccountAccess }) {
  const { context, signOut } = useAuth();
  const names = useCrumbNames();
  const [opened, { toggle, close }] = useDisclosure();
  const location = useLocation();
  const navigate = useNavigate();
  const base = `/a/${account.id}`;
  const { connected } = useRealtimeStatus();
  const unread = useResource(
    () => api.get<{ unread_count: number }>(`/v1/accounts/${account.id}/notifications/unread-count`).catch(() => ({ unread_count: 0 })),
    [account.id],
  );
  const [extra, setExtra] = useState(0);
  useRealtime("notification.created", () => setExtra((n) => n + 1));
  const count = (unread.data?.unread_count ?? 0) + extra;

  return (
    <AppShell header={{ height: 60 }} navbar={{ width: 220, breakpoint: "sm", collapsed: { mobile: !opened } }} padding="md">
      <AppShell.Header>
        <Group h="100%" px="md" justify="space-between" wrap="nowrap">
          <Group gap="sm" wrap="nowrap">
            <Burger opened={opened} onClick={toggle} hiddenFrom="sm" size="sm" aria-label={opened ? "Hide sections" : "Show sections"} />
            <Text component={Link} to={`${base}/dashboard`} fw={700} c="blue.8" td="none">
              Turumba
            </Text>
            <Select
              aria-label={`Account: ${account.name}`}
              data={(context?.accounts ?? []).map((a) => ({ value: a.id, label: a.name }))}
              value={account.id}
              onChange={(id) => id && id !== account.id && navigate(`/a/${id}/dashboard`)}
              allowDeselect={false}
              w={{ base: 130, sm: 220 }}
              size="sm"
            />
          </Group>
          <Group gap="sm" wrap="nowrap">
            <Tooltip label={connected ? "Live updates on" : "Reconnecting…"}>
              <Badge color={connected ? "green" : "gray"} variant="dot" visibleFrom="sm">
                {connected ? "Live" : "Offline"}
              </Badge>
            </Tooltip>
            <Indicator label={count} size={18} disabled={count === 0} color="red">
              <ActionIcon
                component={Link}
                to={`${base}/inbox?tab=mentions`}
                variant="subtle"
                size="lg"
                aria-label={count ? `${count} unread notifications` : "No unread notifications"}
              >
                <BellIcon />
              </ActionIcon>
            </Indicator>
            <Menu position="bottom-end">
              <Menu.Target>
                <UnstyledButton>
                  <Avatar name={context?.user.name} color="blue" variant="filled" size="md" aria-hidden />
                  <span className="visually-hidden">Your menu</span>
                </UnstyledButton>
              </Menu.Target>
              <Menu.Dropdown>
                <Menu.Label>{context?.user.email}</Menu.Label>
                <Menu.Item component={Link} to={`${base}/settings/profile`}>
                  Profile and security
                </Menu.Item>
                <Menu.Item color="red" onClick={() => void signOut().then(() => navigate("/signin"))}>
                  Sign out
                </Menu.Item>
              </Menu.Dropdown>
            </Menu>
          </Group>
        </Group>
      </AppShell.Header>
      <AppShell.Navbar p="sm" aria-label="Sections">
        {visibleSections(account.permissions).map((section) => (
          <NavLink
            key={section.path}
            component={RouterNavLink}
            to={`${base}/${section.path}`}
            label={section.label}
            onClick={close}
            variant="filled"
            active={location.pathname.startsWith(`${base}/${section.path}`)}
          />
        ))}
      </AppShell.Navbar>
      <AppShell.Main>
        <Box component="nav" aria-label="Breadcrumbs" mb="md">
        <Breadcrumbs>
          {crumbs(location.pathname, account.id, names).map((crumb) => (
            <Text key={crumb.to} component={Link} to={crumb.to} size="sm" c="blue.8">
              {crumb.label}
            </Text>
          ))}
        </Breadcrumbs>
        </Box>
        <VerifyBanner />
        <Outlet />
      </AppShell.Main>
    </AppShell>
  );
}

function BellIcon() {
  return (
    <svg width="20" height="20" viewBox="0 0 24 24" fill="none" stroke="currentColor" strokeWidth="2" aria-hidden="true">
      <path d="M6 8a6 6 0 1 1 12 0c0 7 3 9 3 9H3s3-2 3-9" />
      <path d="M10.3 21a1.94 1.94 0 0 0 3.4 0" />
    </svg>
  );
}
