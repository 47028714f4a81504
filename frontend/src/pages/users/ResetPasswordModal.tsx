import { Button, Group, Modal, PasswordInput, Stack, Text } from '@mantine/core';
import { useForm } from '@mantine/form';
import { useMutation } from '@tanstack/react-query';
import { api } from '../../api/client';
import type { User } from '../../api/types';
import { applyProblem, notifySuccess } from '../../components/problems';
import { StrengthMeter } from '../../components/PasswordStrength';

export function ResetPasswordModal({ user, onClose }: { user: User; onClose: () => void }) {
  const form = useForm({ initialValues: { password: '' }, validate: { password: (v) => (v ? null : 'Enter a password') } });
  const m = useMutation({
    mutationFn: (v: { password: string }) => api.post<void>(`/users/${user.id}/password`, { password: v.password }),
    onSuccess: () => {
      notifySuccess(`${user.username} must change this password at the next sign-in.`);
      onClose();
    },
    onError: (e) => applyProblem(e, form),
  });
  return (
    <Modal opened onClose={onClose} title={`Set password for ${user.username}`} centered>
      <form onSubmit={form.onSubmit((v) => m.mutate(v))} noValidate>
        <Stack>
          <Text size="sm">The user's sessions end, and they must change the password at the next sign-in.</Text>
          <PasswordInput label="New password" required autoComplete="new-password" data-autofocus {...form.getInputProps('password')} />
          <StrengthMeter password={form.values.password} />
          <Group justify="flex-end">
            <Button variant="default" onClick={onClose}>
              Cancel
            </Button>
            <Button type="submit" loading={m.isPending}>
              Set password
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}
