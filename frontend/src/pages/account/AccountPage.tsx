import { Stack, Tabs, Text, Title } from '@mantine/core';
import { useLocation, useNavigate } from 'react-router';
import { useAuth } from '../../auth/AuthContext';
import { PageHeader } from '../../components/PageHeader';
import { PasswordForm } from './PasswordForm';
import { TwoFactorPanel } from './TwoFactorPanel';
import { ApiKeysPanel } from './ApiKeysPanel';
import { SessionsPanel } from './SessionsPanel';

const TABS = [
  { value: 'password', label: 'Password' },
  { value: '2fa', label: 'Two-factor authentication' },
  { value: 'api-keys', label: 'API keys' },
  { value: 'sessions', label: 'Sessions' },
] as const;

/** The caller's own account: /account/password (default), /account/2fa, /account/api-keys, /account/sessions. */
export default function AccountPage() {
  const { user } = useAuth();
  const loc = useLocation();
  const navigate = useNavigate();
  const seg = loc.pathname.split('/')[2] ?? '';
  const tab = TABS.some((t) => t.value === seg) ? seg : 'password';
  return (
    <>
      <PageHeader title="Account" description={user ? `Signed in as ${user.username} (${user.role})` : undefined} />
      <Tabs value={tab} onChange={(v) => v && navigate(`/account/${v}`)} keepMounted={false}>
        <Tabs.List mb="md">
          {TABS.map((t) => (
            <Tabs.Tab key={t.value} value={t.value}>
              {t.label}
            </Tabs.Tab>
          ))}
        </Tabs.List>
        <Tabs.Panel value="password">
          <Stack>
            <Title order={2} size="h3">
              Change password
            </Title>
            <Text size="sm" c="dimmed">
              Changing the password signs out your other sessions.
            </Text>
            <PasswordForm />
          </Stack>
        </Tabs.Panel>
        <Tabs.Panel value="2fa">
          <TwoFactorPanel />
        </Tabs.Panel>
        <Tabs.Panel value="api-keys">
          <ApiKeysPanel />
        </Tabs.Panel>
        <Tabs.Panel value="sessions">
          <SessionsPanel />
        </Tabs.Panel>
      </Tabs>
    </>
  );
}
