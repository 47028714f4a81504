import { Suspense } from 'react';
import { Anchor, AppShell, Burger, Center, Group, Loader, NavLink, ScrollArea, Text } from '@mantine/core';
import { useDisclosure } from '@mantine/hooks';
import { Link, Outlet, useLocation } from 'react-router';
import { IconShieldCheck } from '@tabler/icons-react';
import { useAuth } from '../auth/AuthContext';
import { NAV } from './nav';
import { ThemeToggle } from './ThemeToggle';
import { UserMenu } from './UserMenu';
import { SessionExpiryWarning } from '../auth/SessionExpiryWarning';
import { ErrorBoundary } from '../components/ErrorBoundary';

export function PageLoader() {
  return (
    <Center py="xl">
      <Loader aria-label="Loading page" />
    </Center>
  );
}

export function AppLayout() {
  const [opened, { toggle, close }] = useDisclosure(false);
  const { can } = useAuth();
  const loc = useLocation();
  const isActive = (to: string) => (to === '/' ? loc.pathname === '/' : loc.pathname === to || loc.pathname.startsWith(to + '/'));
  return (
    <AppShell header={{ height: 56 }} navbar={{ width: 240, breakpoint: 'sm', collapsed: { mobile: !opened } }} padding="md">
      <a href="#main" className="skip-link">
        Skip to content
      </a>
      <AppShell.Header>
        <Group h="100%" px="md" justify="space-between" wrap="nowrap">
          <Group gap="xs" wrap="nowrap">
            <Burger opened={opened} onClick={toggle} hiddenFrom="sm" size="sm" aria-label={opened ? 'Close navigation' : 'Open navigation'} />
            <Anchor component={Link} to="/" underline="never" c="inherit" aria-label="certward home">
              <Group gap={6} wrap="nowrap">
                <IconShieldCheck size={22} aria-hidden />
                <Text fw={700}>certward</Text>
              </Group>
            </Anchor>
          </Group>
          <Group gap="xs" wrap="nowrap">
            <ThemeToggle />
            <UserMenu />
          </Group>
        </Group>
      </AppShell.Header>
      <AppShell.Navbar p="xs" aria-label="Main navigation" component="nav">
        <AppShell.Section grow component={ScrollArea}>
          {NAV.filter((n) => !n.permission || can(n.permission)).map((n) => (
            <NavLink
              key={n.to}
              component={Link}
              to={n.to}
              label={n.label}
              leftSection={<n.icon size={18} aria-hidden />}
              active={isActive(n.to)}
              aria-current={isActive(n.to) ? 'page' : undefined}
              onClick={close}
            />
          ))}
        </AppShell.Section>
      </AppShell.Navbar>
      <AppShell.Main id="main" tabIndex={-1}>
        <SessionExpiryWarning />
        <ErrorBoundary key={loc.pathname}>
          <Suspense fallback={<PageLoader />}>
            <Outlet />
          </Suspense>
        </ErrorBoundary>
      </AppShell.Main>
    </AppShell>
  );
}
