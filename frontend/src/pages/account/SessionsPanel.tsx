import { useState } from 'react';
import { Badge, Button, Group, Stack, Table, Text, Title } from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api } from '../../api/client';
import type { Session } from '../../api/types';
import { SESSIONS_KEY } from '../../auth/SessionExpiryWarning';
import { ConfirmDialog } from '../../components/ConfirmDialog';
import { ProblemAlert } from '../../components/ProblemAlert';
import { notifyError, notifySuccess } from '../../components/problems';
import { formatDateTime } from '../../components/format';

export function SessionsPanel() {
  const qc = useQueryClient();
  const sessions = useQuery({ queryKey: SESSIONS_KEY, queryFn: async () => (await api.get<Session[]>('/account/sessions')).data });
  const [confirmAll, setConfirmAll] = useState(false);
  const revoke = useMutation({
    mutationFn: (s: Session) => api.del<void>(`/account/sessions/${s.id}`),
    onSuccess: async () => {
      notifySuccess('The session was signed out.');
      await qc.invalidateQueries({ queryKey: SESSIONS_KEY });
    },
    onError: (e) => notifyError(e),
  });
  const revokeOthers = useMutation({
    mutationFn: async () => (await api.del<{ revoked: number }>('/account/sessions')).data,
    onSuccess: async (d) => {
      setConfirmAll(false);
      notifySuccess(`${d?.revoked ?? 0} other sessions were signed out.`);
      await qc.invalidateQueries({ queryKey: SESSIONS_KEY });
    },
    onError: (e) => notifyError(e),
  });
  const others = (sessions.data ?? []).filter((s) => !s.current).length;
  return (
    <Stack>
      <Group justify="space-between">
        <Title order={2} size="h3">
          Active sessions
        </Title>
        <Button variant="light" color="red" disabled={others === 0} onClick={() => setConfirmAll(true)}>
          Sign out all other sessions
        </Button>
      </Group>
      <ProblemAlert error={sessions.error} />
      <Table.ScrollContainer minWidth={600}>
        <Table aria-label="Active sessions" striped>
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Signed in</Table.Th>
              <Table.Th>Last seen</Table.Th>
              <Table.Th>Expires</Table.Th>
              <Table.Th>Address</Table.Th>
              <Table.Th>Browser</Table.Th>
              <Table.Th>
                <span className="sr-only">Actions</span>
              </Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {(sessions.data ?? []).map((s) => (
              <Table.Tr key={s.id}>
                <Table.Td>{formatDateTime(s.created_at)}</Table.Td>
                <Table.Td>{formatDateTime(s.last_seen_at)}</Table.Td>
                <Table.Td>{formatDateTime(s.expires_at)}</Table.Td>
                <Table.Td>{s.client_addr}</Table.Td>
                <Table.Td>
                  <Text size="xs" lineClamp={2} maw={320}>
                    {s.user_agent}
                  </Text>
                </Table.Td>
                <Table.Td>
                  {s.current ? (
                    <Badge variant="light">This session</Badge>
                  ) : (
                    <Button size="compact-sm" variant="subtle" color="red" onClick={() => revoke.mutate(s)} aria-label={`Sign out session from ${s.client_addr} started ${formatDateTime(s.created_at)}`}>
                      Sign out
                    </Button>
                  )}
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
      <ConfirmDialog
        opened={confirmAll}
        title="Sign out other sessions"
        message={`Sign out ${others} other ${others === 1 ? 'session' : 'sessions'}? This session stays signed in.`}
        confirmLabel="Sign out"
        danger
        loading={revokeOthers.isPending}
        onConfirm={() => revokeOthers.mutate()}
        onClose={() => setConfirmAll(false)}
      />
    </Stack>
  );
}
