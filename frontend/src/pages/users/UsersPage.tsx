import { useMemo, useState } from 'react';
import { Badge, Button, Group, Menu, ActionIcon, Text } from '@mantine/core';
import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { ColumnDef } from '@tanstack/react-table';
import { IconDots } from '@tabler/icons-react';
import { api } from '../../api/client';
import type { Role, User } from '../../api/types';
import { Can, useAuth } from '../../auth/AuthContext';
import { ConfirmDialog } from '../../components/ConfirmDialog';
import { DataTable, listQueryProps } from '../../components/DataTable';
import { FilterBar, FilterSelect, SearchInput } from '../../components/FilterBar';
import { PageHeader } from '../../components/PageHeader';
import { ProblemAlert } from '../../components/ProblemAlert';
import { notifyError, notifySuccess } from '../../components/problems';
import { formatDate } from '../../components/format';
import { useListParams } from '../../components/useListParams';
import { UserFormModal } from './UserFormModal';
import { ResetPasswordModal } from './ResetPasswordModal';

export const USERS_KEY = 'users';

export function useRoles(enabled = true) {
  return useQuery({ queryKey: ['roles'], queryFn: async () => (await api.get<Role[]>('/roles')).data, enabled, staleTime: 60_000 });
}

type Dialog = { kind: 'create' } | { kind: 'edit'; user: User } | { kind: 'password'; user: User } | { kind: 'reset2fa'; user: User } | { kind: 'delete'; user: User } | null;

export default function UsersPage() {
  const list = useListParams(['role'] as const);
  const qc = useQueryClient();
  const { can, user: me } = useAuth();
  const roles = useRoles(can('read:roles'));
  const [dialog, setDialog] = useState<Dialog>(null);
  const users = useQuery({
    queryKey: [USERS_KEY, list.query],
    queryFn: ({ signal }) => api.get<User[]>('/users', list.query, { signal }),
    placeholderData: keepPreviousData,
  });
  const invalidate = () => qc.invalidateQueries({ queryKey: [USERS_KEY] });

  const reset2fa = useMutation({
    mutationFn: (u: User) => api.post<void>(`/users/${u.id}/reset-2fa`),
    onSuccess: async () => {
      notifySuccess('Two-factor authentication was reset.');
      setDialog(null);
      await invalidate();
    },
    onError: (e) => notifyError(e),
  });
  const remove = useMutation({
    mutationFn: (u: User) => api.del<void>(`/users/${u.id}`),
    onSuccess: async () => {
      notifySuccess('The user was deleted.');
      setDialog(null);
      await invalidate();
    },
    onError: (e) => notifyError(e),
  });

  const columns = useMemo<ColumnDef<User, any>[]>(
    () => [
      { id: 'username', header: 'Username', cell: ({ row }) => <Text fw={500}>{row.original.username}</Text> },
      { id: 'email', header: 'Email', cell: ({ row }) => row.original.email ?? '—' },
      { id: 'role', header: 'Role', cell: ({ row }) => <Badge variant="light">{row.original.role}</Badge> },
      {
        id: 'status',
        header: 'Status',
        cell: ({ row }) => (
          <Group gap={4}>
            <Badge color={row.original.active ? 'teal' : 'gray'} variant="light">
              {row.original.active ? 'active' : 'disabled'}
            </Badge>
            {row.original.must_change_password && <Badge color="yellow" variant="light">must change password</Badge>}
          </Group>
        ),
      },
      { id: '2fa', header: '2FA', cell: ({ row }) => (row.original.two_factor_enabled ? 'on' : 'off') },
      { id: 'created_at', header: 'Created', cell: ({ row }) => formatDate(row.original.created_at) },
      {
        id: 'actions',
        header: () => <span className="sr-only">Actions</span>,
        cell: ({ row }) => {
          const u = row.original;
          if (!can('write:users')) return null;
          return (
            <Menu position="bottom-end" withinPortal>
              <Menu.Target>
                <ActionIcon variant="subtle" color="gray" aria-label={`Actions for ${u.username}`}>
                  <IconDots size={16} aria-hidden />
                </ActionIcon>
              </Menu.Target>
              <Menu.Dropdown>
                <Menu.Item onClick={() => setDialog({ kind: 'edit', user: u })}>Edit</Menu.Item>
                <Menu.Item onClick={() => setDialog({ kind: 'password', user: u })}>Set password</Menu.Item>
                <Menu.Item disabled={!u.two_factor_enabled} onClick={() => setDialog({ kind: 'reset2fa', user: u })}>
                  Reset two-factor authentication
                </Menu.Item>
                <Menu.Divider />
                <Menu.Item color="red" disabled={u.id === me?.id} onClick={() => setDialog({ kind: 'delete', user: u })}>
                  Delete
                </Menu.Item>
              </Menu.Dropdown>
            </Menu>
          );
        },
      },
    ],
    [can, me?.id],
  );

  return (
    <>
      <PageHeader
        title="Users"
        description="Accounts that can sign in to certward."
        actions={
          <Can permission="write:users">
            <Button onClick={() => setDialog({ kind: 'create' })}>Create user</Button>
          </Can>
        }
      />
      <FilterBar onReset={list.q || list.filters.role ? list.reset : undefined}>
        <SearchInput label="Search" placeholder="Username or email" value={list.q} onChange={list.setQ} />
        <FilterSelect label="Role" value={list.filters.role} onChange={(v) => list.setFilter('role', v)} data={(roles.data ?? []).map((r) => r.name)} />
      </FilterBar>
      <ProblemAlert error={users.error} />
      <DataTable
        label="Users"
        columns={columns}
        {...listQueryProps(users)}
        list={list}
        getRowId={(u) => String(u.id)}
        emptyTitle="No users"
        emptyText={list.q || list.filters.role ? 'No user matches these filters.' : 'There are no users yet.'}
      />
      {(dialog?.kind === 'create' || dialog?.kind === 'edit') && (
        <UserFormModal
          user={dialog.kind === 'edit' ? dialog.user : null}
          roles={roles.data ?? []}
          onClose={() => setDialog(null)}
          onSaved={async () => {
            setDialog(null);
            await invalidate();
          }}
        />
      )}
      {dialog?.kind === 'password' && <ResetPasswordModal user={dialog.user} onClose={() => setDialog(null)} />}
      <ConfirmDialog
        opened={dialog?.kind === 'reset2fa'}
        title="Reset two-factor authentication"
        message={`Remove the authenticator and backup codes of ${dialog && 'user' in dialog ? dialog.user.username : ''}? They can sign in with the password alone until they enrol again.`}
        confirmLabel="Reset"
        danger
        loading={reset2fa.isPending}
        onConfirm={() => dialog?.kind === 'reset2fa' && reset2fa.mutate(dialog.user)}
        onClose={() => setDialog(null)}
      />
      <ConfirmDialog
        opened={dialog?.kind === 'delete'}
        title="Delete user"
        message={`Delete the user ${dialog && 'user' in dialog ? dialog.user.username : ''}? Their sessions and API keys end at once.`}
        confirmLabel="Delete"
        danger
        typeToConfirm={dialog?.kind === 'delete' ? dialog.user.username : undefined}
        loading={remove.isPending}
        onConfirm={() => dialog?.kind === 'delete' && remove.mutate(dialog.user)}
        onClose={() => setDialog(null)}
      />
    </>
  );
}
