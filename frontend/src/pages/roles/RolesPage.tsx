import { useState } from 'react';
import { Badge, Button, Group, Modal, Stack, Table, Text, TextInput, Textarea } from '@mantine/core';
import { useForm } from '@mantine/form';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api } from '../../api/client';
import type { Role } from '../../api/types';
import { Can, useAuth } from '../../auth/AuthContext';
import { ConfirmDialog } from '../../components/ConfirmDialog';
import { EmptyState } from '../../components/EmptyState';
import { PageHeader } from '../../components/PageHeader';
import { ProblemAlert } from '../../components/ProblemAlert';
import { applyProblem, notifyError, notifySuccess } from '../../components/problems';
import { ALWAYS, PermissionMatrix } from './PermissionMatrix';

interface Values {
  name: string;
  description: string;
  permissions: string[];
}

function RoleModal({ role, whitelist, readOnly, onClose, onSaved }: { role: Role | null; whitelist: string[]; readOnly: boolean; onClose: () => void; onSaved: () => void }) {
  const creating = !role;
  const form = useForm<Values>({
    initialValues: { name: role?.name ?? '', description: role?.description ?? '', permissions: role?.permissions ?? [...ALWAYS] },
    validate: { name: (v) => (!creating || /^[A-Za-z][A-Za-z0-9_-]*$/.test(v) ? null : 'A letter, then letters, digits, _ or -') },
  });
  const save = useMutation({
    mutationFn: (v: Values) => {
      const permissions = v.permissions.filter((p) => !ALWAYS.includes(p));
      return creating
        ? api.post<Role>('/roles', { name: v.name.trim(), description: v.description.trim() || undefined, permissions })
        : api.put<Role>(`/roles/${role.id}`, { description: v.description.trim(), permissions });
    },
    onSuccess: () => {
      notifySuccess(creating ? 'The role was created.' : 'The role was saved.');
      onSaved();
    },
    onError: (e) => applyProblem(e, form, ['name', 'description', 'permissions']),
  });
  const title = creating ? 'Create role' : readOnly ? `Role ${role.name}` : `Edit role ${role.name}`;
  return (
    <Modal opened onClose={onClose} title={title} size="lg" centered>
      <form onSubmit={form.onSubmit((v) => save.mutate(v))} noValidate>
        <Stack>
          <TextInput label="Name" required disabled={!creating} data-autofocus {...form.getInputProps('name')} />
          <Textarea label="Description" disabled={readOnly} autosize minRows={1} {...form.getInputProps('description')} />
          <PermissionMatrix whitelist={whitelist} value={form.values.permissions} readOnly={readOnly} onChange={(v) => form.setFieldValue('permissions', v)} />
          {form.errors.permissions && (
            <Text c="red" size="sm" role="alert">
              {form.errors.permissions}
            </Text>
          )}
          <Group justify="flex-end">
            <Button variant="default" onClick={onClose}>
              {readOnly ? 'Close' : 'Cancel'}
            </Button>
            {!readOnly && (
              <Button type="submit" loading={save.isPending}>
                {creating ? 'Create' : 'Save'}
              </Button>
            )}
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}

export default function RolesPage() {
  const qc = useQueryClient();
  const { can } = useAuth();
  const roles = useQuery({ queryKey: ['roles'], queryFn: async () => (await api.get<Role[]>('/roles')).data });
  const whitelist = useQuery({ queryKey: ['roles', 'permissions'], queryFn: async () => (await api.get<string[]>('/roles/permissions')).data, staleTime: Infinity });
  const [editing, setEditing] = useState<Role | 'new' | null>(null);
  const [deleting, setDeleting] = useState<Role | null>(null);
  const remove = useMutation({
    mutationFn: (r: Role) => api.del<void>(`/roles/${r.id}`),
    onSuccess: async () => {
      setDeleting(null);
      notifySuccess('The role was deleted.');
      await qc.invalidateQueries({ queryKey: ['roles'] });
    },
    onError: (e) => notifyError(e),
  });
  const writable = can('write:roles');
  return (
    <>
      <PageHeader
        title="Roles"
        description="Built-in roles and custom roles with their permissions."
        actions={
          <Can permission="write:roles">
            <Button onClick={() => setEditing('new')} disabled={!whitelist.data}>
              Create role
            </Button>
          </Can>
        }
      />
      <ProblemAlert error={roles.error ?? whitelist.error} />
      {roles.data && roles.data.length === 0 && <EmptyState title="No roles" />}
      {roles.data && roles.data.length > 0 && (
        <Table.ScrollContainer minWidth={600}>
          <Table aria-label="Roles" striped>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Name</Table.Th>
                <Table.Th>Description</Table.Th>
                <Table.Th>Permissions</Table.Th>
                <Table.Th>Users</Table.Th>
                <Table.Th>
                  <span className="sr-only">Actions</span>
                </Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {roles.data.map((r) => (
                <Table.Tr key={r.id}>
                  <Table.Td>
                    <Group gap={6}>
                      <Text fw={500}>{r.name}</Text>
                      {r.builtin && (
                        <Badge size="xs" variant="light" color="gray">
                          built-in
                        </Badge>
                      )}
                    </Group>
                  </Table.Td>
                  <Table.Td>{r.description}</Table.Td>
                  <Table.Td>{r.permissions.length}</Table.Td>
                  <Table.Td>{r.users}</Table.Td>
                  <Table.Td>
                    <Group gap={4} justify="flex-end" wrap="nowrap">
                      <Button size="compact-sm" variant="subtle" onClick={() => setEditing(r)} disabled={!whitelist.data} aria-label={`${writable && !r.builtin ? 'Edit' : 'View'} role ${r.name}`}>
                        {writable && !r.builtin ? 'Edit' : 'View'}
                      </Button>
                      {writable && !r.builtin && (
                        <Button size="compact-sm" variant="subtle" color="red" onClick={() => setDeleting(r)} disabled={r.users > 0} aria-label={`Delete role ${r.name}`} title={r.users > 0 ? 'Users hold this role' : undefined}>
                          Delete
                        </Button>
                      )}
                    </Group>
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      )}
      {editing && whitelist.data && (
        <RoleModal
          role={editing === 'new' ? null : editing}
          whitelist={whitelist.data}
          readOnly={!writable || (editing !== 'new' && editing.builtin)}
          onClose={() => setEditing(null)}
          onSaved={async () => {
            setEditing(null);
            await qc.invalidateQueries({ queryKey: ['roles'] });
          }}
        />
      )}
      <ConfirmDialog
        opened={!!deleting}
        title="Delete role"
        message={`Delete the role ${deleting?.name ?? ''}?`}
        confirmLabel="Delete"
        danger
        loading={remove.isPending}
        onConfirm={() => deleting && remove.mutate(deleting)}
        onClose={() => setDeleting(null)}
      />
    </>
  );
}
