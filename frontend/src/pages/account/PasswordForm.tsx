import { Button, PasswordInput, Stack } from '@mantine/core';
import { useForm } from '@mantine/form';
import { useMutation } from '@tanstack/react-query';
import { api } from '../../api/client';
import { applyProblem, notifySuccess } from '../../components/problems';
import { PolicyHints, StrengthMeter, usePasswordPolicy } from '../../components/PasswordStrength';

interface Values {
  current_password: string;
  new_password: string;
  confirm: string;
}

/** Change the caller's password (POST /account/password). */
export function PasswordForm({ onDone }: { onDone?: () => void }) {
  const policy = usePasswordPolicy();
  const form = useForm<Values>({
    initialValues: { current_password: '', new_password: '', confirm: '' },
    validate: {
      current_password: (v) => (v ? null : 'Enter your current password'),
      new_password: (v) => (v ? null : 'Enter a new password'),
      confirm: (v, all) => (v === all.new_password ? null : 'The passwords do not match'),
    },
  });
  const m = useMutation({
    mutationFn: (v: Values) => api.post<void>('/account/password', { current_password: v.current_password, new_password: v.new_password }),
    onSuccess: () => {
      form.reset();
      notifySuccess('Your password was changed. Your other sessions were signed out.');
      onDone?.();
    },
    onError: (e) => applyProblem(e, form, ['current_password', 'new_password']),
  });
  return (
    <form onSubmit={form.onSubmit((v) => m.mutate(v))} noValidate>
      <Stack maw={420}>
        <PasswordInput label="Current password" autoComplete="current-password" required {...form.getInputProps('current_password')} />
        <PasswordInput label="New password" autoComplete="new-password" required {...form.getInputProps('new_password')} />
        <StrengthMeter password={form.values.new_password} />
        <PolicyHints policy={policy.data} />
        <PasswordInput label="Repeat the new password" autoComplete="new-password" required {...form.getInputProps('confirm')} />
        <Button type="submit" loading={m.isPending} w="fit-content">
          Change password
        </Button>
      </Stack>
    </form>
  );
}
