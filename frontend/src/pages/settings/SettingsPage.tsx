import { Button, Checkbox, Group, NumberInput, Paper, SimpleGrid, Skeleton, Stack, Table, TagsInput, Text, Textarea, Title } from '@mantine/core';
import { useForm } from '@mantine/form';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api } from '../../api/client';
import type { Role, SecuritySettings } from '../../api/types';
import { useAuth } from '../../auth/AuthContext';
import { PageHeader } from '../../components/PageHeader';
import { ProblemAlert } from '../../components/ProblemAlert';
import { PolicyHints, usePasswordPolicy } from '../../components/PasswordStrength';
import { applyProblem, notifySuccess } from '../../components/problems';
import { formatDuration } from '../../components/format';

const CLASSES = ['default', 'login', 'protocol', 'revocation'] as const;
const SECURITY_KEY = ['settings', 'security'] as const;
const RETENTION_KEY = ['settings', 'audit-retention'] as const;

interface SecurityValues {
  session_ttl: number;
  lockout: SecuritySettings['lockout'];
  rate_limits: SecuritySettings['rate_limits'];
  rate_limit_allowlist: string;
  use_config_proxies: boolean;
  trusted_proxies: string;
  require_2fa_roles: string[];
}

const lines = (s: string) => s.split(/[\s,]+/).map((x) => x.trim()).filter(Boolean);

function toValues(s: SecuritySettings): SecurityValues {
  return {
    session_ttl: s.session_ttl,
    lockout: { ...s.lockout },
    rate_limits: JSON.parse(JSON.stringify(s.rate_limits)) as SecuritySettings['rate_limits'],
    rate_limit_allowlist: s.rate_limit_allowlist.join('\n'),
    use_config_proxies: s.trusted_proxies === null,
    trusted_proxies: (s.trusted_proxies ?? []).join('\n'),
    require_2fa_roles: [...s.require_2fa_roles],
  };
}

/** Field names of the API (e.g. "lockout.threshold") are the form paths too. */
const API_FIELDS = ['session_ttl', 'lockout', 'rate_limits', 'rate_limit_allowlist', 'trusted_proxies', 'require_2fa_roles'];

function SecurityForm({ settings, editable, roles }: { settings: SecuritySettings; editable: boolean; roles: string[] }) {
  const qc = useQueryClient();
  const form = useForm<SecurityValues>({ initialValues: toValues(settings) });
  const save = useMutation({
    mutationFn: async (v: SecurityValues) =>
      (
        await api.put<SecuritySettings>('/settings/security', {
          session_ttl: v.session_ttl,
          lockout: v.lockout,
          rate_limits: v.rate_limits,
          rate_limit_allowlist: lines(v.rate_limit_allowlist),
          trusted_proxies: v.use_config_proxies ? null : lines(v.trusted_proxies),
          require_2fa_roles: v.require_2fa_roles,
        })
      ).data,
    onSuccess: async (d) => {
      notifySuccess('The security settings were saved. Every node applies them within 5 seconds.');
      if (d) qc.setQueryData(SECURITY_KEY, d);
      await qc.invalidateQueries({ queryKey: SECURITY_KEY });
    },
    onError: (e) => {
      const fields = [...API_FIELDS, 'lockout.threshold', 'lockout.address_threshold', 'lockout.window_seconds', 'lockout.duration_seconds', ...CLASSES.flatMap((c) => [`rate_limits.${c}.per_minute`, `rate_limits.${c}.burst`])];
      applyProblem(e, form, fields);
    },
  });
  const ro = !editable;
  return (
    <form onSubmit={form.onSubmit((v) => save.mutate(v))} noValidate>
      <Stack>
        <Paper withBorder p="md">
          <Title order={2} size="h4" mb="sm">
            Sessions and sign-in
          </Title>
          <SimpleGrid cols={{ base: 1, sm: 2 }}>
            <NumberInput
              label="Session lifetime (seconds)"
              description={formatDuration(Number(form.values.session_ttl) || 0)}
              min={300}
              max={604800}
              readOnly={ro}
              {...form.getInputProps('session_ttl')}
            />
            <TagsInput
              label="Roles that must use two-factor authentication"
              data={roles}
              readOnly={ro}
              clearable={!ro}
              {...form.getInputProps('require_2fa_roles')}
            />
          </SimpleGrid>
        </Paper>
        <Paper withBorder p="md">
          <Title order={2} size="h4" mb="sm">
            Lockout
          </Title>
          <SimpleGrid cols={{ base: 1, sm: 2, md: 4 }}>
            <NumberInput label="Failed logins per account" min={1} max={1000} readOnly={ro} {...form.getInputProps('lockout.threshold')} />
            <NumberInput label="Failed logins per address" min={1} max={100000} readOnly={ro} {...form.getInputProps('lockout.address_threshold')} />
            <NumberInput label="Window (seconds)" min={10} max={86400} readOnly={ro} {...form.getInputProps('lockout.window_seconds')} />
            <NumberInput label="Lock duration (seconds)" min={1} max={86400} readOnly={ro} {...form.getInputProps('lockout.duration_seconds')} />
          </SimpleGrid>
        </Paper>
        <Paper withBorder p="md">
          <Title order={2} size="h4" mb="sm">
            Rate limits
          </Title>
          <Table aria-label="Rate limits" maw={520}>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Route class</Table.Th>
                <Table.Th>Per minute (0 = unlimited)</Table.Th>
                <Table.Th>Burst</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {CLASSES.map((c) => (
                <Table.Tr key={c}>
                  <Table.Th scope="row">{c}</Table.Th>
                  <Table.Td>
                    <NumberInput aria-label={`${c} requests per minute`} min={0} max={1000000} readOnly={ro} {...form.getInputProps(`rate_limits.${c}.per_minute`)} />
                  </Table.Td>
                  <Table.Td>
                    <NumberInput aria-label={`${c} burst`} min={1} max={1000000} readOnly={ro} {...form.getInputProps(`rate_limits.${c}.burst`)} />
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
          <Textarea
            mt="sm"
            label="Never rate limited (addresses or CIDR ranges, one per line)"
            autosize
            minRows={2}
            readOnly={ro}
            {...form.getInputProps('rate_limit_allowlist')}
          />
        </Paper>
        <Paper withBorder p="md">
          <Title order={2} size="h4" mb="sm">
            Trusted proxies
          </Title>
          <Checkbox label="Use the list from the configuration file" disabled={ro} mb="xs" {...form.getInputProps('use_config_proxies', { type: 'checkbox' })} />
          <Textarea
            label="Proxies whose X-Forwarded-For is believed (one per line)"
            autosize
            minRows={2}
            readOnly={ro}
            disabled={form.values.use_config_proxies}
            {...form.getInputProps('trusted_proxies')}
          />
        </Paper>
        {editable && (
          <Group>
            <Button type="submit" loading={save.isPending} disabled={!form.isDirty()}>
              Save security settings
            </Button>
            <Button variant="default" disabled={!form.isDirty()} onClick={() => form.setValues(toValues(settings))}>
              Discard changes
            </Button>
          </Group>
        )}
      </Stack>
    </form>
  );
}

function RetentionForm({ days, editable }: { days: number; editable: boolean }) {
  const qc = useQueryClient();
  const form = useForm<{ days: number | string }>({ initialValues: { days }, validate: { days: (v) => (Number(v) >= 1 && Number(v) <= 36500 ? null : 'Between 1 and 36500 days') } });
  const save = useMutation({
    mutationFn: (v: { days: number | string }) => api.put<{ days: number }>('/system/audit/retention', { days: Number(v.days) }),
    onSuccess: async () => {
      notifySuccess('The audit retention was saved.');
      await qc.invalidateQueries({ queryKey: RETENTION_KEY });
    },
    onError: (e) => applyProblem(e, form, ['days']),
  });
  return (
    <form onSubmit={form.onSubmit((v) => save.mutate(v))} noValidate>
      <Group align="flex-end">
        <NumberInput label="Keep audit rows for (days)" min={1} max={36500} readOnly={!editable} w={240} {...form.getInputProps('days')} />
        {editable && (
          <Button type="submit" loading={save.isPending}>
            Save retention
          </Button>
        )}
      </Group>
    </form>
  );
}

export default function SettingsPage() {
  const { can } = useAuth();
  const editable = can('write:settings');
  const security = useQuery({ queryKey: SECURITY_KEY, queryFn: async () => (await api.get<SecuritySettings>('/settings/security')).data });
  const retention = useQuery({ queryKey: RETENTION_KEY, queryFn: async () => (await api.get<{ days: number }>('/system/audit/retention')).data });
  const policy = usePasswordPolicy();
  const roles = useQuery({ queryKey: ['roles'], queryFn: async () => (await api.get<Role[]>('/roles')).data, enabled: can('read:roles') });
  return (
    <>
      <PageHeader title="Settings" description={editable ? 'Security settings shared by every node.' : 'Security settings shared by every node (read only for your role).'} />
      <Stack>
        <Title order={2} size="h3">
          Security
        </Title>
        <ProblemAlert error={security.error} />
        {security.isPending && <Skeleton h={200} />}
        {security.data && <SecurityForm key={JSON.stringify(security.data)} settings={security.data} editable={editable} roles={(roles.data ?? []).map((r) => r.name)} />}
        <Paper withBorder p="md">
          <Title order={2} size="h4" mb="sm">
            Password policy
          </Title>
          <ProblemAlert error={policy.error} />
          <PolicyHints policy={policy.data} />
          <Text size="xs" c="dimmed" mt="xs">
            The policy is part of the server configuration.
          </Text>
        </Paper>
        <Paper withBorder p="md">
          <Title order={2} size="h4" mb="sm">
            Audit retention
          </Title>
          <ProblemAlert error={retention.error} />
          {retention.data && <RetentionForm days={retention.data.days} editable={editable} />}
        </Paper>
      </Stack>
    </>
  );
}
