import { useEffect, useState } from 'react';
import { List, Progress, Stack, Text } from '@mantine/core';
import { useDebouncedValue } from '@mantine/hooks';
import { useQuery } from '@tanstack/react-query';
import { api } from '../api/client';
import type { PasswordPolicy, PasswordStrength as Strength } from '../api/types';

export const POLICY_KEY = ['users', 'password-policy'] as const;

export function usePasswordPolicy() {
  return useQuery({
    queryKey: POLICY_KEY,
    queryFn: async () => (await api.get<PasswordPolicy>('/users/password-policy')).data,
    staleTime: 5 * 60_000,
  });
}

/** The policy as a list of hints for people. */
export function PolicyHints({ policy }: { policy: PasswordPolicy | undefined }) {
  if (!policy) return null;
  const items = [`${policy.min_length} to ${policy.max_length} characters`];
  if (policy.require_upper) items.push('an upper-case letter');
  if (policy.require_lower) items.push('a lower-case letter');
  if (policy.require_digit) items.push('a digit');
  if (policy.require_special) items.push('a special character');
  if (policy.max_run > 0) items.push(`no run of more than ${policy.max_run} repeated or sequential characters`);
  if (policy.blocklist) items.push('not a common password');
  return (
    <Stack gap={2}>
      <Text size="xs" c="dimmed">
        The password needs:
      </Text>
      <List size="xs" c="dimmed" spacing={0}>
        {items.map((i) => (
          <List.Item key={i}>{i}</List.Item>
        ))}
      </List>
    </Stack>
  );
}

/** Scores `password` with POST /users/password-strength (debounced) and shows a meter. */
export function StrengthMeter({ password }: { password: string }) {
  const [debounced] = useDebouncedValue(password, 300);
  const [result, setResult] = useState<Strength | null>(null);
  useEffect(() => {
    let live = true;
    if (!debounced) {
      setResult(null);
      return;
    }
    api
      .post<Strength>('/users/password-strength', { password: debounced })
      .then((r) => live && setResult(r.data))
      .catch(() => live && setResult(null));
    return () => {
      live = false;
    };
  }, [debounced]);
  if (!password || !result) return null;
  const color = !result.meets_policy ? 'red' : result.score < 60 ? 'yellow' : 'teal';
  const word = !result.meets_policy ? 'Does not meet the policy' : result.score < 60 ? 'Fair' : result.score < 80 ? 'Good' : 'Strong';
  return (
    <Stack gap={4}>
      <Progress value={Math.max(5, result.score)} color={color} size="sm" aria-label={`Password strength ${result.score} of 100`} />
      <Text size="xs" c={color} aria-live="polite">
        {word}
        {result.reason ? `: ${result.reason}` : ''}
      </Text>
    </Stack>
  );
}
