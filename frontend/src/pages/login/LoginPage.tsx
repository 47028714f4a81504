import { useEffect, useRef, useState } from 'react';
import { Alert, Anchor, Button, Center, Paper, PasswordInput, Stack, Text, TextInput, Title } from '@mantine/core';
import { useForm } from '@mantine/form';
import { Navigate, useNavigate, useSearchParams } from 'react-router';
import { IconShieldCheck } from '@tabler/icons-react';
import { api, isApiError } from '../../api/client';
import type { LoginResult } from '../../api/types';
import { useAuth } from '../../auth/AuthContext';
import { errorMessage } from '../../components/problems';
import { ThemeToggle } from '../../layout/ThemeToggle';
import { safeNext } from './safeNext';

interface LoginValues {
  username: string;
  password: string;
  totp: string;
}

export default function LoginPage() {
  const { user, signedIn } = useAuth();
  const navigate = useNavigate();
  const [sp] = useSearchParams();
  const next = safeNext(sp.get('next'));
  const [step, setStep] = useState<'password' | 'totp'>('password');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const totpRef = useRef<HTMLInputElement>(null);
  const form = useForm<LoginValues>({
    initialValues: { username: '', password: '', totp: '' },
    validate: {
      username: (v) => (v.trim() ? null : 'Enter your username'),
      password: (v) => (v ? null : 'Enter your password'),
      totp: (v) => (step === 'totp' && !v.trim() ? 'Enter the code from your authenticator app or a backup code' : null),
    },
  });

  useEffect(() => {
    document.title = 'Sign in · certward';
  }, []);
  useEffect(() => {
    if (step === 'totp') totpRef.current?.focus();
  }, [step]);

  if (user && !busy) return <Navigate to={user.must_change_password ? `/login/change-password?next=${encodeURIComponent(next)}` : next} replace />;

  const submit = async (v: LoginValues) => {
    setBusy(true);
    setError(null);
    try {
      const body: Record<string, string> = { username: v.username.trim(), password: v.password };
      if (step === 'totp') body.totp = v.totp.replace(/\s+/g, '');
      const r = await api.post<LoginResult>('/auth/login', body, { noAuthRedirect: true });
      await signedIn(r.data);
      if (r.data.must_change_password) navigate(`/login/change-password?next=${encodeURIComponent(next)}`, { replace: true });
      else if (r.data.two_factor_enrolment_required) navigate('/account/2fa', { replace: true });
      else navigate(next, { replace: true });
    } catch (e) {
      if (isApiError(e) && e.code === 'totp_required') {
        setStep('totp');
      } else if (isApiError(e) && e.status === 401) {
        if (step === 'totp') form.setFieldValue('totp', '');
        setError(step === 'totp' ? 'The code or the password is not valid.' : 'Invalid username or password.');
      } else {
        setError(errorMessage(e));
      }
    } finally {
      setBusy(false);
    }
  };

  return (
    <Center mih="100vh" p="md">
      <div style={{ position: 'absolute', top: 12, right: 12 }}>
        <ThemeToggle />
      </div>
      <Paper withBorder shadow="sm" p="xl" w={380} maw="100%" component="main">
        <form onSubmit={form.onSubmit(submit)} noValidate>
          <Stack>
            <Stack gap={4} align="center">
              <IconShieldCheck size={36} aria-hidden />
              <Title order={1} size="h3">
                Sign in to certward
              </Title>
            </Stack>
            {sp.get('expired') && !error && (
              <Alert color="yellow" role="status">
                Your session has ended. Sign in again.
              </Alert>
            )}
            {error && (
              <Alert color="red" role="alert" title="Sign-in failed">
                {error}
              </Alert>
            )}
            {step === 'password' ? (
              <>
                <TextInput label="Username" autoComplete="username" autoFocus required {...form.getInputProps('username')} />
                <PasswordInput label="Password" autoComplete="current-password" required {...form.getInputProps('password')} />
              </>
            ) : (
              <>
                <Text size="sm">
                  Two-factor authentication is on for <b>{form.values.username}</b>. Enter the 6-digit code from your authenticator app, or one of your backup codes.
                </Text>
                <TextInput
                  ref={totpRef}
                  label="Authentication code"
                  autoComplete="one-time-code"
                  inputMode="text"
                  required
                  {...form.getInputProps('totp')}
                />
              </>
            )}
            <Button type="submit" loading={busy} fullWidth>
              {step === 'password' ? 'Sign in' : 'Verify'}
            </Button>
            {step === 'totp' && (
              <Anchor
                component="button"
                type="button"
                size="sm"
                onClick={() => {
                  setStep('password');
                  setError(null);
                  form.setValues({ password: '', totp: '' });
                }}
              >
                Use another account
              </Anchor>
            )}
          </Stack>
        </form>
      </Paper>
    </Center>
  );
}
