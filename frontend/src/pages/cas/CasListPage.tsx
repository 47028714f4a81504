import { useMemo } from 'react';
import { Link, useNavigate, useSearchParams } from 'react-router';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import type { ColumnDef } from '@tanstack/react-table';
import { Anchor, Box, Button, Group, Loader, SegmentedControl, Text } from '@mantine/core';
import { IconPlus } from '@tabler/icons-react';
import { api } from '../../api/client';
import { Can } from '../../auth/AuthContext';
import { DataTable, listQueryProps } from '../../components/DataTable';
import { EmptyState } from '../../components/EmptyState';
import { FilterBar, FilterSelect, SearchInput } from '../../components/FilterBar';
import { formatDate } from '../../components/format';
import { PageHeader } from '../../components/PageHeader';
import { ProblemAlert } from '../../components/ProblemAlert';
import { useListParams } from '../../components/useListParams';
import type { Ca } from '../certificates/pki';
import { StatusBadge } from '../certificates/PkiParts';

const FILTERS = ['status'] as const;

export interface CaNode {
  ca: Ca;
  children: CaNode[];
}

/** Roots (and CAs whose parent is not in the list) with their descendants, by name. */
export function buildTree(cas: Ca[]): CaNode[] {
  const nodes = new Map(cas.map((c) => [c.id, { ca: c, children: [] as CaNode[] }]));
  const roots: CaNode[] = [];
  for (const n of nodes.values()) {
    const p = n.ca.parent_id ? nodes.get(n.ca.parent_id) : undefined;
    if (p && p !== n) p.children.push(n);
    else roots.push(n);
  }
  const sort = (l: CaNode[]) => {
    l.sort((a, b) => a.ca.name.localeCompare(b.ca.name));
    l.forEach((n) => sort(n.children));
  };
  sort(roots);
  return roots;
}

function TreeLevel({ nodes, level }: { nodes: CaNode[]; level: number }) {
  return (
    <Box component="ul" role={level === 1 ? 'tree' : 'group'} aria-label={level === 1 ? 'CA hierarchy' : undefined} style={{ listStyle: 'none', paddingLeft: level === 1 ? 0 : 24, margin: 0 }}>
      {nodes.map((n) => (
        <li key={n.ca.id} role="treeitem" aria-level={level} aria-expanded={n.children.length ? true : undefined} aria-selected={false}>
          <Group gap="xs" py={4} wrap="wrap">
            <Anchor component={Link} to={`/cas/${n.ca.id}`}>
              {n.ca.name}
            </Anchor>
            <Text size="xs" c="dimmed">
              {n.ca.type}, {n.ca.key_type}
            </Text>
            <StatusBadge status={n.ca.status} />
            {n.ca.key_state !== 'online' && <StatusBadge status={n.ca.key_state} />}
          </Group>
          {n.children.length > 0 && <TreeLevel nodes={n.children} level={level + 1} />}
        </li>
      ))}
    </Box>
  );
}

function CaTree() {
  const q = useQuery({ queryKey: ['cas', 'all'], queryFn: () => api.get<Ca[]>('/cas', { per_page: 200, sort: 'name' }) });
  if (q.isPending) return <Loader aria-label="Loading" />;
  if (q.error) return <ProblemAlert error={q.error} />;
  if (q.data.data.length === 0) return <EmptyState title="No CAs" text="Create or import a root CA to start." />;
  return (
    <>
      <TreeLevel nodes={buildTree(q.data.data)} level={1} />
      {(q.data.meta?.total ?? 0) > q.data.data.length && (
        <Text size="sm" c="dimmed" mt="sm">
          The tree shows the first {q.data.data.length} of {q.data.meta?.total} CAs; use the list to see the others.
        </Text>
      )}
    </>
  );
}

export function CaActions() {
  return (
    <Can permission="write:cas">
      <Button component={Link} to="/cas/new" leftSection={<IconPlus size={16} aria-hidden />}>
        Create CA
      </Button>
      <Button component={Link} to="/cas/import" variant="default">
        Import CA
      </Button>
      <Button component={Link} to="/cas/external" variant="default">
        Intermediate signed elsewhere
      </Button>
    </Can>
  );
}

export function CasListPage() {
  const [sp, setSp] = useSearchParams();
  const view = sp.get('view') === 'tree' ? 'tree' : 'list';
  const list = useListParams(FILTERS, { sort: 'name', perPage: 50 });
  const nav = useNavigate();
  const q = useQuery({
    queryKey: ['cas', list.query],
    queryFn: () => api.get<Ca[]>('/cas', list.query),
    placeholderData: keepPreviousData,
    enabled: view === 'list',
  });
  const columns = useMemo<ColumnDef<Ca, unknown>[]>(
    () => [
      {
        id: 'name',
        header: 'Name',
        enableSorting: true,
        cell: ({ row }) => (
          <Anchor component={Link} to={`/cas/${row.original.id}`} onClick={(e) => e.stopPropagation()}>
            {row.original.name}
          </Anchor>
        ),
      },
      { id: 'type', header: 'Type', accessorKey: 'type' },
      { id: 'status', header: 'Status', cell: ({ row }) => <StatusBadge status={row.original.status} /> },
      { id: 'key_state', header: 'Key', cell: ({ row }) => <StatusBadge status={row.original.key_state} /> },
      { id: 'key_type', header: 'Key type', accessorKey: 'key_type' },
      { id: 'not_after', header: 'Expires', cell: ({ row }) => formatDate(row.original.not_after) },
      { id: 'children', header: 'Children', meta: { numeric: true }, cell: ({ row }) => row.original.children ?? 0 },
      { id: 'id', header: 'Id', enableSorting: true, meta: { numeric: true }, accessorKey: 'id' },
    ],
    [],
  );
  return (
    <>
      <PageHeader title="Certificate authorities" description="Root and intermediate CAs of this server." actions={<CaActions />} />
      <Group mb="md">
        <SegmentedControl
          aria-label="View"
          value={view}
          onChange={(v) =>
            setSp((prev) => {
              const n = new URLSearchParams(prev);
              if (v === 'tree') n.set('view', 'tree');
              else n.delete('view');
              return n;
            })
          }
          data={[
            { value: 'list', label: 'List' },
            { value: 'tree', label: 'Hierarchy' },
          ]}
        />
      </Group>
      {view === 'tree' ? (
        <CaTree />
      ) : (
        <>
          <FilterBar onReset={list.reset}>
            <SearchInput value={list.q} onChange={list.setQ} placeholder="Name, slug or subject" />
            <FilterSelect
              label="Status"
              value={list.filters.status}
              onChange={(v) => list.setFilter('status', v)}
              data={[
                { value: 'active', label: 'Active' },
                { value: 'revoked', label: 'Revoked' },
                { value: 'awaiting_certificate', label: 'Awaiting certificate' },
              ]}
            />
          </FilterBar>
          <ProblemAlert error={q.error} />
          <DataTable
            label="Certificate authorities"
            columns={columns}
            {...listQueryProps(q)}
            list={list}
            getRowId={(r) => String(r.id)}
            onRowClick={(r) => void nav(`/cas/${r.id}`)}
            emptyTitle="No CAs"
            emptyText={list.q || list.filters.status ? 'No CA matches these filters.' : 'Create or import a root CA to start.'}
          />
        </>
      )}
    </>
  );
}
