import { useMemo, useState } from 'react';
import { Alert, Badge, Button, Code, Group, Modal, Stack, Text } from '@mantine/core';
import { keepPreviousData, useMutation, useQuery } from '@tanstack/react-query';
import type { ColumnDef } from '@tanstack/react-table';
import { IconDownload, IconShieldCheck } from '@tabler/icons-react';
import { api } from '../../api/client';
import type { AuditEntry, AuditVerify } from '../../api/types';
import { Can } from '../../auth/AuthContext';
import { DataTable, listQueryProps } from '../../components/DataTable';
import { FilterBar, FilterSelect, FilterText } from '../../components/FilterBar';
import { PageHeader } from '../../components/PageHeader';
import { ProblemAlert } from '../../components/ProblemAlert';
import { notifyError } from '../../components/problems';
import { downloadFromApi } from '../../components/download';
import { formatDateTime } from '../../components/format';
import { useListParams } from '../../components/useListParams';

const FILTERS = ['from', 'to', 'user', 'action', 'resource', 'outcome'] as const;
const RESOURCES = ['user', 'role', 'session', 'api_key', 'settings', 'route', 'audit', 'ca', 'certificate', 'csr', 'template', 'crl'];
const OUTCOME_COLOR: Record<string, string> = { success: 'teal', failure: 'red', denied: 'orange' };

export default function AuditPage() {
  const list = useListParams(FILTERS);
  const [detail, setDetail] = useState<AuditEntry | null>(null);
  const rows = useQuery({
    queryKey: ['audit', list.query],
    queryFn: ({ signal }) => api.get<AuditEntry[]>('/audit', list.query, { signal }),
    placeholderData: keepPreviousData,
  });
  const verify = useMutation({ mutationFn: async () => (await api.get<AuditVerify>('/audit/verify')).data });
  const exportAs = async (format: 'csv' | 'json') => {
    const q: Record<string, string> = { format };
    for (const k of FILTERS) if (list.filters[k]) q[k] = list.filters[k];
    try {
      await downloadFromApi('/audit/export', `audit.${format}`, q);
    } catch (e) {
      notifyError(e, 'Export failed');
    }
  };
  const columns = useMemo<ColumnDef<AuditEntry, any>[]>(
    () => [
      { id: 'at', header: 'Time', cell: ({ row }) => <Text size="sm" style={{ whiteSpace: 'nowrap' }}>{formatDateTime(row.original.at)}</Text> },
      { id: 'username', header: 'User', cell: ({ row }) => row.original.username || '—' },
      { id: 'action', header: 'Action', cell: ({ row }) => <Code>{row.original.action}</Code> },
      { id: 'resource', header: 'Resource', cell: ({ row }) => `${row.original.resource_type}${row.original.resource_id ? ' ' + row.original.resource_id : ''}` },
      {
        id: 'outcome',
        header: 'Outcome',
        cell: ({ row }) => (
          <Badge variant="light" color={OUTCOME_COLOR[row.original.outcome] ?? 'gray'}>
            {row.original.outcome}
          </Badge>
        ),
      },
      { id: 'client_addr', header: 'Address', cell: ({ row }) => row.original.client_addr },
      {
        id: 'details',
        header: () => <span className="sr-only">Details</span>,
        cell: ({ row }) => (
          <Button size="compact-xs" variant="subtle" onClick={() => setDetail(row.original)} aria-label={`Details of audit event ${row.original.id}`}>
            Details
          </Button>
        ),
      },
    ],
    [],
  );
  const anyFilter = FILTERS.some((k) => list.filters[k]);
  return (
    <>
      <PageHeader
        title="Audit log"
        description="Every change and refusal, in a hash chain."
        actions={
          <>
            <Button variant="default" leftSection={<IconShieldCheck size={16} aria-hidden />} loading={verify.isPending} onClick={() => verify.mutate()}>
              Verify chain
            </Button>
            <Can permission="export:audit">
              <Button variant="default" leftSection={<IconDownload size={16} aria-hidden />} onClick={() => exportAs('csv')}>
                Export CSV
              </Button>
              <Button variant="default" leftSection={<IconDownload size={16} aria-hidden />} onClick={() => exportAs('json')}>
                Export JSON
              </Button>
            </Can>
          </>
        }
      />
      {verify.data && (
        <Alert color={verify.data.valid ? 'teal' : 'red'} title={verify.data.valid ? 'The audit chain is intact' : 'The audit chain is broken'} role="status" mb="md" withCloseButton closeButtonLabel="Dismiss" onClose={() => verify.reset()}>
          {verify.data.valid
            ? `${verify.data.checked} rows verified.`
            : `${verify.data.checked} rows verified before row ${verify.data.first_bad_id ?? '?'}: ${verify.data.reason ?? 'mismatch'}.`}
        </Alert>
      )}
      <ProblemAlert error={verify.error} />
      <FilterBar onReset={anyFilter ? list.reset : undefined}>
        <FilterText label="From" type="date" value={list.filters.from} onChange={(v) => list.setFilter('from', v)} w={160} />
        <FilterText label="Before" type="date" value={list.filters.to} onChange={(v) => list.setFilter('to', v)} w={160} />
        <FilterText label="User" placeholder="exact username" value={list.filters.user} onChange={(v) => list.setFilter('user', v)} w={160} />
        <FilterText label="Action" placeholder="user or user.create" value={list.filters.action} onChange={(v) => list.setFilter('action', v)} w={180} />
        <FilterSelect label="Resource" value={list.filters.resource} onChange={(v) => list.setFilter('resource', v)} data={RESOURCES} w={150} />
        <FilterSelect label="Outcome" value={list.filters.outcome} onChange={(v) => list.setFilter('outcome', v)} data={['success', 'failure', 'denied']} w={130} />
      </FilterBar>
      <ProblemAlert error={rows.error} />
      <DataTable
        label="Audit events"
        columns={columns}
        {...listQueryProps(rows)}
        list={list}
        getRowId={(r) => String(r.id)}
        emptyTitle="No audit events"
        emptyText={anyFilter ? 'No event matches these filters.' : 'Nothing has been recorded yet.'}
      />
      <Modal opened={!!detail} onClose={() => setDetail(null)} title={`Audit event ${detail?.id ?? ''}`} size="lg" centered>
        {detail && (
          <Stack gap="xs">
            <Text size="sm">
              <b>{detail.action}</b> by {detail.username || '—'} at {formatDateTime(detail.at)} ({detail.outcome})
            </Text>
            <Text size="sm">Request id: <Code>{detail.request_id}</Code></Text>
            <Text size="sm" style={{ wordBreak: 'break-all' }}>Hash: <Code>{detail.hash}</Code></Text>
            <Code block role="region" aria-label="Event details" tabIndex={0}>{JSON.stringify(detail.detail, null, 2)}</Code>
            <Group justify="flex-end">
              <Button variant="default" onClick={() => setDetail(null)}>
                Close
              </Button>
            </Group>
          </Stack>
        )}
      </Modal>
    </>
  );
}
