import { useMemo, useRef, useState } from 'react';
import { Link, useNavigate } from 'react-router';
import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { ColumnDef } from '@tanstack/react-table';
import { Anchor, Button, Checkbox, Group, List, Menu, Modal, Select, Stack, Text } from '@mantine/core';
import { IconColumns, IconPlus } from '@tabler/icons-react';
import { api } from '../../api/client';
import { Can, useAuth } from '../../auth/AuthContext';
import { DataTable, listQueryProps } from '../../components/DataTable';
import { FilterBar, FilterSelect, FilterText, SearchInput } from '../../components/FilterBar';
import { PageHeader } from '../../components/PageHeader';
import { ProblemAlert } from '../../components/ProblemAlert';
import { ConfirmDialog } from '../../components/ConfirmDialog';
import { downloadFromApi } from '../../components/download';
import { formatDate } from '../../components/format';
import { notifyError, notifySuccess } from '../../components/problems';
import { useListParams } from '../../components/useListParams';
import { KEY_TYPES, REVOCATION_REASONS, certDisplayStatus, type BulkResult, type Certificate } from './pki';
import { StatusBadge } from './PkiParts';
import { useCaList, useTemplates } from './useLookups';

const FILTERS = ['status', 'ca', 'template', 'key_type', 'expires_within', 'expires_before'] as const;
export const COLUMNS_KEY = 'cw.certificates.columns';

const OPTIONAL_COLUMNS = [
  { id: 'serial', label: 'Serial' },
  { id: 'status', label: 'Status' },
  { id: 'ca', label: 'CA' },
  { id: 'template', label: 'Template' },
  { id: 'key_type', label: 'Key type' },
  { id: 'not_after', label: 'Expires' },
  { id: 'created_at', label: 'Issued' },
] as const;
const DEFAULT_COLUMNS = ['serial', 'status', 'ca', 'template', 'not_after'];

function loadColumns(): string[] {
  try {
    const v = JSON.parse(localStorage.getItem(COLUMNS_KEY) ?? 'null') as unknown;
    if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[];
  } catch {
    // fall through
  }
  return DEFAULT_COLUMNS;
}

function addDays(days: number): string {
  const d = new Date(Date.now() + days * 86400_000);
  return d.toISOString().slice(0, 10);
}

export function CertificatesListPage() {
  const list = useListParams(FILTERS, { sort: '-created_at', perPage: 50 });
  const nav = useNavigate();
  const qc = useQueryClient();
  const { can } = useAuth();
  const { cas, byId } = useCaList();
  const { templates } = useTemplates();
  const [visible, setVisible] = useState<string[]>(loadColumns);
  const [selected, setSelected] = useState<Set<number>>(new Set());
  const [bulk, setBulk] = useState<'revoke' | 'renew' | null>(null);
  const [reason, setReason] = useState('unspecified');
  const [results, setResults] = useState<{ action: string; data: BulkResult } | null>(null);

  const query = useMemo(() => {
    const q: Record<string, string | number> = { ...list.query };
    delete q.expires_within;
    const w = Number(list.filters.expires_within);
    if (!q.expires_before && w > 0) q.expires_before = addDays(w);
    return q;
  }, [list.query, list.filters.expires_within]);

  const certs = useQuery({
    queryKey: ['certificates', query],
    queryFn: () => api.get<Certificate[]>('/certificates', query),
    placeholderData: keepPreviousData,
  });

  const setColumns = (ids: string[]) => {
    setVisible(ids);
    localStorage.setItem(COLUMNS_KEY, JSON.stringify(ids));
  };

  const toggle = (id: number, on: boolean) =>
    setSelected((s) => {
      const n = new Set(s);
      if (on) n.add(id);
      else n.delete(id);
      return n;
    });

  const rows = certs.data?.data;
  const pageIds = (rows ?? []).map((r) => r.id);
  const allOnPage = pageIds.length > 0 && pageIds.every((id) => selected.has(id));
  const someOnPage = pageIds.some((id) => selected.has(id));
  const canBulk = can('revoke:certificates') || can('write:certificates');

  // Cells read the changing state through a ref so the column definitions
  // (and so the cell components) stay the same while rows are selected:
  // new cell functions would remount every cell and lose the focus.
  const live = useRef({ selected, byId, pageIds, allOnPage, someOnPage });
  live.current = { selected, byId, pageIds, allOnPage, someOnPage };

  const columns = useMemo(() => {
    const cols: ColumnDef<Certificate, unknown>[] = [];
    cols.push({
      id: 'select',
      header: () => (
        <Checkbox
          aria-label="Select all on this page"
          checked={live.current.allOnPage}
          indeterminate={live.current.someOnPage && !live.current.allOnPage}
          onChange={(e) => {
            const on = e.currentTarget.checked;
            setSelected((s) => {
              const n = new Set(s);
              for (const id of live.current.pageIds) if (on) n.add(id);
              else n.delete(id);
              return n;
            });
          }}
        />
      ),
      cell: ({ row }) => (
        <Checkbox
          aria-label={`Select ${row.original.common_name || row.original.serial}`}
          checked={live.current.selected.has(row.original.id)}
          onClick={(e) => e.stopPropagation()}
          onChange={(e) => toggle(row.original.id, e.currentTarget.checked)}
        />
      ),
    });
    cols.push({
      id: 'common_name',
      header: 'Common name',
      enableSorting: true,
      cell: ({ row }) => (
        <Anchor component={Link} to={`/certificates/${row.original.id}`} onClick={(e) => e.stopPropagation()}>
          {row.original.common_name || row.original.subject_dn || `#${row.original.id}`}
        </Anchor>
      ),
    });
    const opt: Record<string, ColumnDef<Certificate, unknown>> = {
      serial: { id: 'serial', header: 'Serial', cell: ({ row }) => <Text size="xs" ff="monospace">{row.original.serial}</Text> },
      status: { id: 'status', header: 'Status', cell: ({ row }) => <StatusBadge status={certDisplayStatus(row.original)} /> },
      ca: { id: 'ca', header: 'CA', cell: ({ row }) => live.current.byId.get(row.original.ca_id)?.name ?? `#${row.original.ca_id}` },
      template: { id: 'template', header: 'Template', accessorKey: 'template' },
      key_type: { id: 'key_type', header: 'Key type', accessorKey: 'key_type' },
      not_after: { id: 'not_after', header: 'Expires', enableSorting: true, cell: ({ row }) => formatDate(row.original.not_after) },
      created_at: { id: 'created_at', header: 'Issued', enableSorting: true, cell: ({ row }) => formatDate(row.original.created_at ?? row.original.not_before) },
    };
    for (const c of OPTIONAL_COLUMNS) if (visible.includes(c.id)) cols.push(opt[c.id]!);
    return canBulk ? cols : cols.slice(1);
  }, [visible, canBulk]);

  const ids = [...selected];
  const onBulkDone = (action: string) => (r: { data: BulkResult }) => {
    const ok = r.data.results.filter((x) => x.status === 'ok').length;
    notifySuccess(`${action}: ${ok} of ${r.data.results.length} done.`);
    setResults({ action, data: r.data });
    setBulk(null);
    setSelected(new Set());
    void qc.invalidateQueries({ queryKey: ['certificates'] });
  };
  const bulkRevoke = useMutation({
    mutationFn: () => api.post<BulkResult>('/certificates/bulk/revoke', { ids, reason }),
    onSuccess: onBulkDone('Revoke'),
    onError: (e) => notifyError(e),
  });
  const bulkRenew = useMutation({
    mutationFn: () => api.post<BulkResult>('/certificates/bulk/renew', { ids }),
    onSuccess: onBulkDone('Renew'),
    onError: (e) => notifyError(e),
  });
  const bulkExport = async (format: 'pem' | 'chain') => {
    try {
      await downloadFromApi('/certificates/bulk/export', format === 'chain' ? 'certificates-chain.pem' : 'certificates.pem', undefined, { ids, format });
    } catch (e) {
      notifyError(e);
    }
  };

  return (
    <>
      <PageHeader
        title="Certificates"
        description="Every certificate issued by the CAs of this server."
        actions={
          <Can permission="write:certificates">
            <Button component={Link} to="/certificates/new" leftSection={<IconPlus size={16} aria-hidden />}>
              Issue certificate
            </Button>
          </Can>
        }
      />
      <FilterBar onReset={list.reset}>
        <SearchInput value={list.q} onChange={list.setQ} placeholder="Name, serial, fingerprint, SAN" />
        <FilterSelect
          label="Status"
          value={list.filters.status}
          onChange={(v) => list.setFilter('status', v)}
          data={[
            { value: 'valid', label: 'Valid' },
            { value: 'expiring', label: 'Expiring' },
            { value: 'expired', label: 'Expired' },
            { value: 'revoked', label: 'Revoked' },
          ]}
          w={140}
        />
        <FilterSelect label="CA" value={list.filters.ca} onChange={(v) => list.setFilter('ca', v)} data={cas.map((c) => ({ value: String(c.id), label: c.name }))} />
        <FilterSelect label="Template" value={list.filters.template} onChange={(v) => list.setFilter('template', v)} data={templates.map((t) => t.name)} w={160} />
        <FilterSelect
          label="Key type"
          value={list.filters.key_type}
          onChange={(v) => list.setFilter('key_type', v)}
          data={[{ value: 'rsa', label: 'RSA (any)' }, { value: 'ec', label: 'EC (any)' }, ...KEY_TYPES.map((k) => ({ value: k.value, label: k.label }))]}
          w={140}
        />
        <FilterSelect
          label="Expires within"
          value={list.filters.expires_within}
          onChange={(v) => list.setFilters({ expires_within: v, expires_before: null })}
          data={[
            { value: '7', label: '7 days' },
            { value: '30', label: '30 days' },
            { value: '90', label: '90 days' },
            { value: '365', label: '1 year' },
          ]}
          w={140}
        />
        <FilterText label="Expires before" type="date" value={list.filters.expires_before} onChange={(v) => list.setFilters({ expires_before: v, expires_within: null })} w={160} />
        <Menu closeOnItemClick={false} position="bottom-end">
          <Menu.Target>
            <Button variant="default" leftSection={<IconColumns size={16} aria-hidden />}>
              Columns
            </Button>
          </Menu.Target>
          <Menu.Dropdown>
            {OPTIONAL_COLUMNS.map((c) => (
              <Menu.Item key={c.id}>
                <Checkbox
                  label={c.label}
                  checked={visible.includes(c.id)}
                  onChange={(e) => setColumns(e.currentTarget.checked ? [...visible, c.id] : visible.filter((x) => x !== c.id))}
                />
              </Menu.Item>
            ))}
          </Menu.Dropdown>
        </Menu>
      </FilterBar>
      {selected.size > 0 && (
        <Group mb="sm" gap="xs" role="region" aria-label="Bulk actions">
          <Text size="sm">{selected.size} selected</Text>
          <Can permission="revoke:certificates">
            <Button size="xs" color="red" variant="light" onClick={() => setBulk('revoke')}>
              Revoke selected
            </Button>
          </Can>
          <Can permission="write:certificates">
            <Button size="xs" variant="light" onClick={() => setBulk('renew')}>
              Renew selected
            </Button>
          </Can>
          <Button size="xs" variant="light" onClick={() => void bulkExport('pem')}>
            Export selected (PEM)
          </Button>
          <Button size="xs" variant="light" onClick={() => void bulkExport('chain')}>
            Export selected with chains
          </Button>
          <Button size="xs" variant="subtle" onClick={() => setSelected(new Set())}>
            Clear selection
          </Button>
        </Group>
      )}
      <ProblemAlert error={certs.error} />
      <DataTable
        label="Certificates"
        columns={columns}
        {...listQueryProps(certs)}
        list={list}
        getRowId={(r) => String(r.id)}
        onRowClick={(r) => void nav(`/certificates/${r.id}`)}
        emptyTitle="No certificates"
        emptyText={list.q || Object.values(list.filters).some(Boolean) ? 'No certificate matches these filters.' : 'No certificate has been issued yet.'}
      />
      <ConfirmDialog
        opened={bulk === 'revoke'}
        title={`Revoke ${selected.size} certificates`}
        message="Each selected certificate is revoked with the reason below. This cannot be undone (except a certificate hold)."
        confirmLabel="Revoke"
        danger
        loading={bulkRevoke.isPending}
        onConfirm={() => bulkRevoke.mutate()}
        onClose={() => setBulk(null)}
      >
        <Select label="Reason" data={REVOCATION_REASONS} value={reason} onChange={(v) => v && setReason(v)} allowDeselect={false} />
      </ConfirmDialog>
      <ConfirmDialog
        opened={bulk === 'renew'}
        title={`Renew ${selected.size} certificates`}
        message="Each selected certificate gets a successor with a new key of the same type."
        confirmLabel="Renew"
        loading={bulkRenew.isPending}
        onConfirm={() => bulkRenew.mutate()}
        onClose={() => setBulk(null)}
      />
      <Modal opened={!!results} onClose={() => setResults(null)} title={`${results?.action ?? ''} results`}>
        <Stack>
          <List size="sm" aria-label="Results">
            {results?.data.results.map((r) => (
              <List.Item key={r.id}>
                #{r.id}: {r.status === 'ok' ? (r.new_id ? <>done, new certificate <Anchor component={Link} to={`/certificates/${r.new_id}`}>#{r.new_id}</Anchor></> : 'done') : `failed: ${r.detail ?? r.code ?? ''}`}
              </List.Item>
            ))}
          </List>
          <Group justify="flex-end">
            <Button onClick={() => setResults(null)}>Close</Button>
          </Group>
        </Stack>
      </Modal>
    </>
  );
}
