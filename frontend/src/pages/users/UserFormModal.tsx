import { Button, Checkbox, Group, Modal, PasswordInput, Select, Stack, Switch, TextInput } from '@mantine/core';
import { useForm } from '@mantine/form';
import { useMutation } from '@tanstack/react-query';
import { api } from '../../api/client';
import type { Role, User } from '../../api/types';
import { applyProblem, notifySuccess } from '../../components/problems';
import { PolicyHints, StrengthMeter, usePasswordPolicy } from '../../components/PasswordStrength';

interface Values {
  username: string;
  email: string;
  role: string;
  password: string;
  must_change_password: boolean;
  active: boolean;
}

/** Create a user (user = null) or edit email, role and active flag. */
export function UserFormModal({ user, roles, onClose, onSaved }: { user: User | null; roles: Role[]; onClose: () => void; onSaved: () => void }) {
  const creating = !user;
  const policy = usePasswordPolicy();
  const form = useForm<Values>({
    initialValues: {
      username: user?.username ?? '',
      email: user?.email ?? '',
      role: user?.role ?? 'viewer',
      password: '',
      must_change_password: true,
      active: user?.active ?? true,
    },
    validate: {
      username: (v) => (!creating || /^[A-Za-z0-9][A-Za-z0-9._@-]*$/.test(v) ? null : 'Letters, digits and . _ @ - (not first)'),
      role: (v) => (v ? null : 'Choose a role'),
      password: (v) => (!creating || v ? null : 'Enter a password'),
    },
  });
  const save = useMutation({
    mutationFn: async (v: Values) => {
      if (creating) {
        return api.post<User>('/users', {
          username: v.username.trim(),
          password: v.password,
          email: v.email.trim() || undefined,
          role: v.role,
          must_change_password: v.must_change_password,
        });
      }
      return api.patch<User>(`/users/${user.id}`, { email: v.email.trim() || null, role: v.role, active: v.active });
    },
    onSuccess: () => {
      notifySuccess(creating ? 'The user was created.' : 'The user was saved.');
      onSaved();
    },
    onError: (e) => applyProblem(e, form, ['username', 'email', 'role', 'password', 'active']),
  });
  const roleNames = roles.length ? roles.map((r) => r.name) : [form.values.role];
  return (
    <Modal opened onClose={onClose} title={creating ? 'Create user' : `Edit ${user.username}`} centered>
      <form onSubmit={form.onSubmit((v) => save.mutate(v))} noValidate>
        <Stack>
          <TextInput label="Username" required disabled={!creating} data-autofocus {...form.getInputProps('username')} />
          <TextInput label="Email" type="email" {...form.getInputProps('email')} />
          <Select label="Role" required data={roleNames} allowDeselect={false} {...form.getInputProps('role')} />
          {creating ? (
            <>
              <PasswordInput label="Password" required autoComplete="new-password" {...form.getInputProps('password')} />
              <StrengthMeter password={form.values.password} />
              <PolicyHints policy={policy.data} />
              <Checkbox label="Must change the password at first sign-in" {...form.getInputProps('must_change_password', { type: 'checkbox' })} />
            </>
          ) : (
            <Switch label="Active (off ends the user's sessions)" {...form.getInputProps('active', { type: 'checkbox' })} />
          )}
          <Group justify="flex-end">
            <Button variant="default" onClick={onClose}>
              Cancel
            </Button>
            <Button type="submit" loading={save.isPending}>
              {creating ? 'Create' : 'Save'}
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}
