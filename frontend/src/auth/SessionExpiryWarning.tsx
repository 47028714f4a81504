import { useEffect, useState } from 'react';
import { Button, Group, Modal, PasswordInput, Stack, Text } from '@mantine/core';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useLocation, useNavigate } from 'react-router';
import { api } from '../api/client';
import type { LoginResult, Session } from '../api/types';
import { useAuth } from './AuthContext';
import { errorMessage } from '../components/problems';

/** Warn this many milliseconds before the session ends. */
export const EXPIRY_WARNING_MS = 5 * 60_000;

export const SESSIONS_KEY = ['account', 'sessions'] as const;

/** When the current cookie session ends (ms since epoch), from GET /account/sessions. */
export function useSessionExpiry(): number | null {
  const { user } = useAuth();
  const q = useQuery({
    queryKey: SESSIONS_KEY,
    queryFn: async () => (await api.get<Session[]>('/account/sessions')).data,
    enabled: !!user && user.auth === 'session',
    staleTime: 60_000,
  });
  const cur = q.data?.find((s) => s.current);
  if (!cur?.expires_at) return null;
  const t = Date.parse(cur.expires_at);
  return Number.isNaN(t) ? null : t;
}

/**
 * Before the session's end, asks for the password again: "Stay signed in"
 * logs in afresh (a new session with a full lifetime); otherwise the user
 * is signed out when the session ends and sent to the login page.
 */
export function SessionExpiryWarning() {
  const { user, signedIn, logout } = useAuth();
  const qc = useQueryClient();
  const exp = useSessionExpiry();
  const navigate = useNavigate();
  const loc = useLocation();
  const [now, setNow] = useState(() => Date.now());
  const [password, setPassword] = useState('');
  const [totp, setTotp] = useState('');
  const [needTotp, setNeedTotp] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [dismissedFor, setDismissedFor] = useState<number | null>(null);

  useEffect(() => {
    const id = window.setInterval(() => setNow(Date.now()), 10_000);
    return () => window.clearInterval(id);
  }, []);

  const left = exp === null ? null : exp - now;
  useEffect(() => {
    if (left !== null && left <= 0) {
      void logout().then(() => navigate(`/login?expired=1&next=${encodeURIComponent(loc.pathname + loc.search)}`, { replace: true }));
    }
  }, [left, logout, navigate, loc.pathname, loc.search]);

  if (!user || exp === null || left === null || left > EXPIRY_WARNING_MS || left <= 0 || dismissedFor === exp) return null;
  const minutes = Math.max(1, Math.ceil(left / 60_000));

  const stay = async () => {
    setBusy(true);
    setError(null);
    try {
      const r = await api.post<LoginResult>('/auth/login', { username: user.username, password, totp: needTotp ? totp : undefined }, { noAuthRedirect: true });
      setPassword('');
      setTotp('');
      await signedIn(r.data);
      await qc.invalidateQueries({ queryKey: SESSIONS_KEY });
    } catch (e) {
      const err = e as { code?: string };
      if (err.code === 'totp_required') setNeedTotp(true);
      else setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Modal opened onClose={() => setDismissedFor(exp)} title="Your session is about to end" centered>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void stay();
        }}
      >
        <Stack>
          <Text size="sm" role="status">
            You will be signed out in about {minutes} {minutes === 1 ? 'minute' : 'minutes'}. Enter your password to stay signed in.
          </Text>
          <PasswordInput label="Password" value={password} onChange={(e) => setPassword(e.currentTarget.value)} error={error} data-autofocus autoComplete="current-password" />
          {needTotp && <Text size="sm">Enter your authentication code too.</Text>}
          {needTotp && (
            <PasswordInput label="Authentication code" value={totp} onChange={(e) => setTotp(e.currentTarget.value)} autoComplete="one-time-code" />
          )}
          <Group justify="flex-end">
            <Button
              variant="default"
              onClick={async () => {
                await logout();
                navigate('/login', { replace: true });
              }}
            >
              Sign out
            </Button>
            <Button type="submit" loading={busy} disabled={!password}>
              Stay signed in
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}
