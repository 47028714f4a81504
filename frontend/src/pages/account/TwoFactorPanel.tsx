import { useState } from 'react';
import { Alert, Button, Code, Group, List, PasswordInput, SimpleGrid, Stack, Text, TextInput, Title } from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { QRCodeSVG } from 'qrcode.react';
import { api } from '../../api/client';
import type { TwoFactorEnrolment, TwoFactorStatus } from '../../api/types';
import { useAuth } from '../../auth/AuthContext';
import { CopyButton } from '../../components/CopyButton';
import { ProblemAlert } from '../../components/ProblemAlert';
import { errorMessage, notifySuccess } from '../../components/problems';
import { saveFile } from '../../components/download';

const KEY = ['account', '2fa'] as const;

/** TOTP enrolment (QR code, confirm, backup codes shown once) and turning it off. */
export function TwoFactorPanel() {
  const qc = useQueryClient();
  const { refresh, user } = useAuth();
  const status = useQuery({ queryKey: KEY, queryFn: async () => (await api.get<TwoFactorStatus>('/account/2fa')).data });
  const [enrolment, setEnrolment] = useState<TwoFactorEnrolment | null>(null);
  const [code, setCode] = useState('');
  const [codeError, setCodeError] = useState<string | null>(null);
  const [backupCodes, setBackupCodes] = useState<string[] | null>(null);
  const [password, setPassword] = useState('');
  const [pwError, setPwError] = useState<string | null>(null);

  const enroll = useMutation({
    mutationFn: async () => (await api.post<TwoFactorEnrolment>('/account/2fa/enroll')).data,
    onSuccess: (d) => {
      setEnrolment(d);
      setBackupCodes(null);
    },
  });
  const confirm = useMutation({
    mutationFn: async () => (await api.post<{ enabled: true; backup_codes: string[] }>('/account/2fa/confirm', { code: code.trim() })).data,
    onSuccess: async (d) => {
      setBackupCodes(d.backup_codes);
      setEnrolment(null);
      setCode('');
      await qc.invalidateQueries({ queryKey: KEY });
      await refresh();
    },
    onError: (e) => setCodeError(errorMessage(e)),
  });
  const disable = useMutation({
    mutationFn: async () => api.del<void>('/account/2fa', { body: { password } }),
    onSuccess: async () => {
      setPassword('');
      notifySuccess('Two-factor authentication is off.');
      await qc.invalidateQueries({ queryKey: KEY });
      await refresh();
    },
    onError: (e) => setPwError(errorMessage(e)),
  });

  return (
    <Stack maw={640}>
      <Title order={2} size="h3">
        Two-factor authentication
      </Title>
      {user?.two_factor_enrolment_required && (
        <Alert color="yellow" role="status" title="Two-factor authentication is required">
          Your role requires two-factor authentication. Set it up to continue.
        </Alert>
      )}
      <ProblemAlert error={status.error} />
      {backupCodes && (
        <Alert color="teal" title="Two-factor authentication is on" role="status">
          <Stack gap="xs">
            <Text size="sm">
              Save these backup codes now. Each works once if you lose your authenticator. <b>They are shown only this once.</b>
            </Text>
            <SimpleGrid cols={{ base: 1, xs: 2 }} spacing={4} role="list" aria-label="Backup codes">
              {backupCodes.map((c) => (
                <Code key={c} role="listitem">
                  {c}
                </Code>
              ))}
            </SimpleGrid>
            <Group gap="xs">
              <CopyButton value={backupCodes.join('\n')} label="Copy backup codes" />
              <Button size="xs" variant="light" onClick={() => saveFile(backupCodes.join('\n') + '\n', 'certward-backup-codes.txt', 'text/plain')}>
                Download backup codes
              </Button>
              <Button size="xs" variant="subtle" onClick={() => setBackupCodes(null)}>
                I have saved them
              </Button>
            </Group>
          </Stack>
        </Alert>
      )}
      {status.data && !status.data.enabled && !enrolment && (
        <Stack gap="xs">
          <Text size="sm">Two-factor authentication is off. Turn it on to ask for a code from an authenticator app at each sign-in.</Text>
          <ProblemAlert error={enroll.error} />
          <Button w="fit-content" onClick={() => enroll.mutate()} loading={enroll.isPending}>
            Set up two-factor authentication
          </Button>
        </Stack>
      )}
      {enrolment && (
        <Stack>
          <Text size="sm">Scan this QR code with your authenticator app, or enter the secret by hand. Then enter the 6-digit code it shows.</Text>
          <Group align="flex-start" gap="lg">
            <div style={{ background: 'white', padding: 8, lineHeight: 0 }}>
              <QRCodeSVG value={enrolment.otpauth_uri} size={180} role="img" aria-label="QR code of the authenticator secret" />
            </div>
            <Stack gap={4}>
              <Text size="sm" fw={600}>
                Secret
              </Text>
              <Group gap={4}>
                <Code data-testid="totp-secret">{enrolment.secret}</Code>
                <CopyButton value={enrolment.secret} label="Copy secret" />
              </Group>
            </Stack>
          </Group>
          <form
            onSubmit={(e) => {
              e.preventDefault();
              setCodeError(null);
              confirm.mutate();
            }}
          >
            <Group align="flex-end">
              <TextInput
                label="Code from the app"
                inputMode="numeric"
                autoComplete="one-time-code"
                value={code}
                onChange={(e) => setCode(e.currentTarget.value)}
                error={codeError}
                w={200}
              />
              <Button type="submit" loading={confirm.isPending} disabled={!code.trim()}>
                Confirm
              </Button>
            </Group>
          </form>
        </Stack>
      )}
      {status.data?.enabled && (
        <Stack gap="xs">
          <Text size="sm">Two-factor authentication is on.</Text>
          <form
            onSubmit={(e) => {
              e.preventDefault();
              setPwError(null);
              disable.mutate();
            }}
          >
            <Group align="flex-end">
              <PasswordInput label="Password to turn it off" value={password} onChange={(e) => setPassword(e.currentTarget.value)} error={pwError} w={260} autoComplete="current-password" />
              <Button type="submit" color="red" variant="light" loading={disable.isPending} disabled={!password}>
                Turn off two-factor authentication
              </Button>
            </Group>
          </form>
          <List size="xs" c="dimmed">
            <List.Item>Lost your authenticator? Sign in with a backup code, or ask an administrator to reset it.</List.Item>
          </List>
        </Stack>
      )}
    </Stack>
  );
}
