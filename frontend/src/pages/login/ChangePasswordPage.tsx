import { Center, Paper, Stack, Text, Title } from '@mantine/core';
import { useNavigate, useSearchParams } from 'react-router';
import { useEffect } from 'react';
import { useAuth } from '../../auth/AuthContext';
import { PasswordForm } from '../account/PasswordForm';
import { safeNext } from './safeNext';

/** Shown after login when the account must change its password. */
export default function ChangePasswordPage() {
  const { refresh, user } = useAuth();
  const navigate = useNavigate();
  const [sp] = useSearchParams();
  const next = safeNext(sp.get('next'));
  useEffect(() => {
    document.title = 'Change password · certward';
  }, []);
  return (
    <Center mih="100vh" p="md">
      <Paper withBorder shadow="sm" p="xl" w={460} maw="100%" component="main">
        <Stack>
          <Title order={1} size="h3">
            Change your password
          </Title>
          <Text size="sm">
            {user?.must_change_password ? 'Your password must be changed before you continue.' : 'Choose a new password.'}
          </Text>
          <PasswordForm
            onDone={async () => {
              await refresh();
              navigate(next, { replace: true });
            }}
          />
        </Stack>
      </Paper>
    </Center>
  );
}
