import { lazy, Suspense } from 'react';
import { Anchor, Badge, Code, Group, Paper, SimpleGrid, Skeleton, Stack, Table, Text, Title, VisuallyHidden } from '@mantine/core';
import { useQueries, useQuery } from '@tanstack/react-query';
import { Link } from 'react-router';
import { api } from '../../api/client';
import type { AuditEntry } from '../../api/types';
import { useAuth } from '../../auth/AuthContext';
import { PageHeader } from '../../components/PageHeader';
import { ProblemAlert } from '../../components/ProblemAlert';
import { EmptyState } from '../../components/EmptyState';
import { formatDateTime } from '../../components/format';

const IssuedChart = lazy(() => import('./IssuedChart'));

export interface DashboardStats {
  certificates: { total: number; valid: number; revoked: number; expired: number; expiring_7d: number; expiring_30d: number };
  cas: { total: number; active: number };
  issued_per_day: { date: string; count: number }[];
}

interface CaSummary {
  id: number;
  name: string;
  slug: string;
  status: string;
  key_state: string;
  not_after: string;
}

interface CrlInfo {
  stale?: boolean;
  full?: { number: number; this_update: string; next_update: string } | null;
}

/** Number of CAs whose health is shown. */
const CA_HEALTH_LIMIT = 20;

function Stat({ label, value, to, color }: { label: string; value: number | undefined; to?: string; color?: string }) {
  const body = (
    <Paper withBorder p="md" h="100%">
      <Text size="xs" c="dimmed" tt="uppercase" fw={700}>
        {label}
        <VisuallyHidden component="span">: </VisuallyHidden>
      </Text>
      <Text fz={28} fw={700} c={color}>
        {value ?? (
          <>
            <span aria-hidden>—</span>
            <VisuallyHidden component="span">unknown</VisuallyHidden>
          </>
        )}
      </Text>
    </Paper>
  );
  // The link is named by its visible text (label and value).
  return to ? (
    <Anchor component={Link} to={to} underline="never" c="inherit">
      {body}
    </Anchor>
  ) : (
    body
  );
}

function inDays(days: number): string {
  return new Date(Date.now() + days * 86400_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export default function DashboardPage() {
  const { can } = useAuth();
  const stats = useQuery({ queryKey: ['dashboard', 'stats'], queryFn: async () => (await api.get<DashboardStats>('/dashboard/stats')).data, refetchInterval: 60_000 });
  const cas = useQuery({
    queryKey: ['cas', 'dashboard'],
    queryFn: async () => api.get<CaSummary[]>('/cas', { per_page: CA_HEALTH_LIMIT }),
    enabled: can('read:cas'),
  });
  const crls = useQueries({
    queries: (cas.data?.data ?? []).map((ca) => ({
      queryKey: ['cas', ca.id, 'crl'],
      queryFn: async () => (await api.get<CrlInfo>(`/cas/${ca.id}/crl`)).data,
      enabled: can('read:crl'),
      staleTime: 60_000,
    })),
  });
  const audit = useQuery({
    queryKey: ['audit', 'recent'],
    queryFn: async () => (await api.get<AuditEntry[]>('/audit', { per_page: 10 })).data,
    enabled: can('read:audit'),
  });
  const c = stats.data?.certificates;
  const soon7 = encodeURIComponent(inDays(7));
  const soon30 = encodeURIComponent(inDays(30));
  return (
    <>
      <PageHeader title="Dashboard" description="Certificates, CAs and recent activity." />
      <ProblemAlert error={stats.error} />
      <Stack>
        <section aria-labelledby="dash-certs">
          <Title order={2} size="h4" id="dash-certs" mb="xs">
            Certificates
          </Title>
          <SimpleGrid cols={{ base: 2, sm: 3, lg: 6 }}>
            <Stat label="Total" value={c?.total} to="/certificates" />
            <Stat label="Valid" value={c?.valid} to="/certificates?status=valid" color="teal" />
            <Stat label="Expired" value={c?.expired} to="/certificates?status=expired" />
            <Stat label="Revoked" value={c?.revoked} to="/certificates?status=revoked" color="red" />
            <Stat label="Expiring in 7 days" value={c?.expiring_7d} to={`/certificates?status=valid&expires_before=${soon7}`} color={c?.expiring_7d ? 'orange' : undefined} />
            <Stat label="Expiring in 30 days" value={c?.expiring_30d} to={`/certificates?status=valid&expires_before=${soon30}`} color={c?.expiring_30d ? 'yellow' : undefined} />
          </SimpleGrid>
        </section>
        <SimpleGrid cols={{ base: 1, md: 2 }}>
          <Paper withBorder p="md" component="section" aria-labelledby="dash-issued">
            <Title order={2} size="h4" id="dash-issued" mb="xs">
              Issued per day (30 days)
            </Title>
            {stats.data ? (
              <Suspense fallback={<Skeleton h={220} />}>
                <IssuedChart data={stats.data.issued_per_day} />
                <VisuallyHidden>
                  {stats.data.issued_per_day.reduce((s, d) => s + d.count, 0)} certificates issued in the last 30 days.
                </VisuallyHidden>
              </Suspense>
            ) : (
              <Skeleton h={220} />
            )}
          </Paper>
          <Paper withBorder p="md" component="section" aria-labelledby="dash-cas">
            <Group justify="space-between" mb="xs">
              <Title order={2} size="h4" id="dash-cas">
                CA health
              </Title>
              {stats.data && (
                <Text size="sm" c="dimmed">
                  {stats.data.cas.active} of {stats.data.cas.total} active
                </Text>
              )}
            </Group>
            {!can('read:cas') && <Text size="sm" c="dimmed">Your role cannot see CAs.</Text>}
            <ProblemAlert error={cas.error} />
            {cas.isPending && can('read:cas') && <Skeleton h={120} />}
            {cas.data && cas.data.data.length === 0 && <EmptyState title="No CAs yet" />}
            {cas.data && cas.data.data.length > 0 && (
              <Table.ScrollContainer minWidth={420}>
                <Table aria-label="CA health" verticalSpacing={4}>
                  <Table.Thead>
                    <Table.Tr>
                      <Table.Th>CA</Table.Th>
                      <Table.Th>State</Table.Th>
                      <Table.Th>Expires</Table.Th>
                      <Table.Th>CRL next update</Table.Th>
                    </Table.Tr>
                  </Table.Thead>
                  <Table.Tbody>
                    {cas.data.data.map((ca, i) => {
                      const crl = crls[i]?.data;
                      const next = crl?.full?.next_update;
                      const overdue = next ? Date.parse(next) < Date.now() : false;
                      return (
                        <Table.Tr key={ca.id}>
                          <Table.Td>
                            <Anchor component={Link} to={`/cas/${ca.id}`} size="sm">
                              {ca.name}
                            </Anchor>
                          </Table.Td>
                          <Table.Td>
                            <Group gap={4}>
                              <Badge size="sm" variant="light" color={ca.status === 'active' ? 'teal' : 'gray'}>
                                {ca.status}
                              </Badge>
                              {ca.key_state !== 'online' && (
                                <Badge size="sm" variant="light" color="orange">
                                  {ca.key_state === 'offline' ? 'key offline' : ca.key_state.replace(/_/g, ' ')}
                                </Badge>
                              )}
                            </Group>
                          </Table.Td>
                          <Table.Td>
                            <Text size="sm">{formatDateTime(ca.not_after).slice(0, 10)}</Text>
                          </Table.Td>
                          <Table.Td>
                            {!can('read:crl') ? (
                              '—'
                            ) : crl === undefined ? (
                              <Skeleton h={14} w={80} />
                            ) : next ? (
                              <Group gap={4}>
                                <Text size="sm" c={overdue ? 'red' : undefined}>
                                  {formatDateTime(next)}
                                </Text>
                                {overdue && (
                                  <Badge size="xs" color="red">
                                    overdue
                                  </Badge>
                                )}
                                {crl.stale && (
                                  <Badge size="xs" color="yellow">
                                    stale
                                  </Badge>
                                )}
                              </Group>
                            ) : (
                              <Text size="sm" c="dimmed">
                                no CRL yet
                              </Text>
                            )}
                          </Table.Td>
                        </Table.Tr>
                      );
                    })}
                  </Table.Tbody>
                </Table>
              </Table.ScrollContainer>
            )}
          </Paper>
        </SimpleGrid>
        {can('read:audit') && (
          <Paper withBorder p="md" component="section" aria-labelledby="dash-audit">
            <Group justify="space-between" mb="xs">
              <Title order={2} size="h4" id="dash-audit">
                Recent audit events
              </Title>
              <Anchor component={Link} to="/audit" size="sm">
                Open the audit log
              </Anchor>
            </Group>
            <ProblemAlert error={audit.error} />
            {audit.isPending && <Skeleton h={120} />}
            {audit.data && audit.data.length === 0 && <EmptyState title="No events yet" />}
            {audit.data && audit.data.length > 0 && (
              <Table.ScrollContainer minWidth={480}>
                <Table aria-label="Recent audit events" verticalSpacing={4}>
                  <Table.Tbody>
                    {audit.data.map((e) => (
                      <Table.Tr key={e.id}>
                        <Table.Td>
                          <Text size="sm" style={{ whiteSpace: 'nowrap' }}>
                            {formatDateTime(e.at)}
                          </Text>
                        </Table.Td>
                        <Table.Td>{e.username || '—'}</Table.Td>
                        <Table.Td>
                          <Code>{e.action}</Code>
                        </Table.Td>
                        <Table.Td>
                          <Badge size="sm" variant="light" color={e.outcome === 'success' ? 'teal' : e.outcome === 'denied' ? 'orange' : 'red'}>
                            {e.outcome}
                          </Badge>
                        </Table.Td>
                      </Table.Tr>
                    ))}
                  </Table.Tbody>
                </Table>
              </Table.ScrollContainer>
            )}
          </Paper>
        )}
      </Stack>
    </>
  );
}
