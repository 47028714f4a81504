import { useState } from 'react';
import { Alert, Badge, Button, Code, Group, Modal, MultiSelect, NumberInput, Stack, Table, Text, TextInput, Title } from '@mantine/core';
import { useForm } from '@mantine/form';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api } from '../../api/client';
import type { ApiKey, ApiKeyCreated } from '../../api/types';
import { useAuth } from '../../auth/AuthContext';
import { ConfirmDialog } from '../../components/ConfirmDialog';
import { CopyButton } from '../../components/CopyButton';
import { EmptyState } from '../../components/EmptyState';
import { ProblemAlert } from '../../components/ProblemAlert';
import { applyProblem, notifyError, notifySuccess } from '../../components/problems';
import { formatDateTime } from '../../components/format';

const KEY = ['account', 'api-keys'] as const;

interface Values {
  name: string;
  scopes: string[];
  expires_in_days: number | '';
}

export function ApiKeysPanel() {
  const qc = useQueryClient();
  const { user } = useAuth();
  const keys = useQuery({ queryKey: KEY, queryFn: async () => (await api.get<ApiKey[]>('/account/api-keys', { per_page: 200 })).data });
  const [open, setOpen] = useState(false);
  const [created, setCreated] = useState<ApiKeyCreated | null>(null);
  const [revoking, setRevoking] = useState<ApiKey | null>(null);
  const form = useForm<Values>({
    initialValues: { name: '', scopes: [], expires_in_days: '' },
    validate: { name: (v) => (v.trim() ? null : 'Enter a name') },
  });
  const create = useMutation({
    mutationFn: async (v: Values) =>
      (
        await api.post<ApiKeyCreated>('/account/api-keys', {
          name: v.name.trim(),
          scopes: v.scopes.length ? v.scopes : undefined,
          expires_in_days: v.expires_in_days === '' ? undefined : v.expires_in_days,
        })
      ).data,
    onSuccess: async (d) => {
      setOpen(false);
      form.reset();
      setCreated(d);
      await qc.invalidateQueries({ queryKey: KEY });
    },
    onError: (e) => applyProblem(e, form),
  });
  const revoke = useMutation({
    mutationFn: (k: ApiKey) => api.del<void>(`/account/api-keys/${k.id}`),
    onSuccess: async () => {
      setRevoking(null);
      notifySuccess('The API key was revoked.');
      await qc.invalidateQueries({ queryKey: KEY });
    },
    onError: (e) => notifyError(e),
  });

  const active = (keys.data ?? []).filter((k) => !k.revoked_at);
  return (
    <Stack>
      <Group justify="space-between">
        <Title order={2} size="h3">
          API keys
        </Title>
        <Button onClick={() => setOpen(true)}>Create API key</Button>
      </Group>
      <Text size="sm" c="dimmed">
        Send a key as <Code>Authorization: Bearer cwk_…</Code>. A key can do what its scopes allow and you may do.
      </Text>
      {created && (
        <Alert color="teal" title={`API key "${created.name}" created`} role="status" withCloseButton onClose={() => setCreated(null)} closeButtonLabel="Dismiss">
          <Stack gap="xs">
            <Text size="sm">
              Copy the key now. <b>It is shown only this once.</b>
            </Text>
            <Group gap={4} wrap="nowrap">
              <Code data-testid="api-key-token" style={{ wordBreak: 'break-all' }}>
                {created.token}
              </Code>
              <CopyButton value={created.token} label="Copy API key" />
            </Group>
          </Stack>
        </Alert>
      )}
      <ProblemAlert error={keys.error} />
      {keys.data && active.length === 0 && <EmptyState title="No API keys" text="Create a key for scripts and integrations." />}
      {active.length > 0 && (
        <Table.ScrollContainer minWidth={600}>
          <Table aria-label="API keys" striped>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Name</Table.Th>
                <Table.Th>Prefix</Table.Th>
                <Table.Th>Scopes</Table.Th>
                <Table.Th>Created</Table.Th>
                <Table.Th>Expires</Table.Th>
                <Table.Th>Last used</Table.Th>
                <Table.Th>
                  <span className="sr-only">Actions</span>
                </Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {active.map((k) => (
                <Table.Tr key={k.id}>
                  <Table.Td>{k.name}</Table.Td>
                  <Table.Td>
                    <Code>{k.prefix}</Code>
                  </Table.Td>
                  <Table.Td>
                    <Text size="xs">{k.scopes.length} permissions</Text>
                  </Table.Td>
                  <Table.Td>{formatDateTime(k.created_at)}</Table.Td>
                  <Table.Td>{k.expires_at ? formatDateTime(k.expires_at) : <Badge variant="light">never</Badge>}</Table.Td>
                  <Table.Td>{formatDateTime(k.last_used_at)}</Table.Td>
                  <Table.Td>
                    <Button size="compact-sm" color="red" variant="subtle" onClick={() => setRevoking(k)} aria-label={`Revoke API key ${k.name}`}>
                      Revoke
                    </Button>
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      )}
      <Modal opened={open} onClose={() => setOpen(false)} title="Create API key" centered>
        <form onSubmit={form.onSubmit((v) => create.mutate(v))} noValidate>
          <Stack>
            <TextInput label="Name" required data-autofocus {...form.getInputProps('name')} />
            <MultiSelect
              label="Scopes"
              description="Leave empty for every permission you hold."
              data={user?.permissions ?? []}
              searchable
              clearable
              {...form.getInputProps('scopes')}
            />
            <NumberInput label="Expires in (days)" description="Leave empty for a key that does not expire." min={1} max={3650} {...form.getInputProps('expires_in_days')} />
            <Group justify="flex-end">
              <Button variant="default" onClick={() => setOpen(false)}>
                Cancel
              </Button>
              <Button type="submit" loading={create.isPending}>
                Create
              </Button>
            </Group>
          </Stack>
        </form>
      </Modal>
      <ConfirmDialog
        opened={!!revoking}
        title="Revoke API key"
        message={`Revoke the API key "${revoking?.name ?? ''}"? Scripts using it stop working at once.`}
        confirmLabel="Revoke"
        danger
        loading={revoke.isPending}
        onConfirm={() => revoking && revoke.mutate(revoking)}
        onClose={() => setRevoking(null)}
      />
    </Stack>
  );
}
