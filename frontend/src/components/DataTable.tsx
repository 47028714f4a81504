import { useMemo, type ReactNode } from 'react';
import {
  flexRender,
  getCoreRowModel,
  useReactTable,
  type ColumnDef,
  type SortingState,
} from '@tanstack/react-table';
import { Box, Group, Loader, Pagination, Select, Table, Text, UnstyledButton, VisuallyHidden } from '@mantine/core';
import { IconArrowDown, IconArrowUp, IconSelector } from '@tabler/icons-react';
import { PER_PAGE_OPTIONS, type ListParams } from './useListParams';
import { EmptyState } from './EmptyState';

// Column `id` (or accessorKey) is the API sort key. Set `enableSorting: true`
// on sortable columns; `meta: { descOnly?: boolean, ascOnly?: boolean }` limits directions.
export interface DataTableColumnMeta {
  ascOnly?: boolean;
  descOnly?: boolean;
  /** Right-align (numbers). */
  numeric?: boolean;
}

export interface DataTableProps<T> {
  /** Accessible name of the table (e.g. "Users"). */
  label: string;
  columns: ColumnDef<T, any>[];
  rows: T[] | undefined;
  total: number | undefined;
  /** false when `total` is a lower bound (the server caps its count). */
  totalExact?: boolean;
  /** First load: no rows yet. */
  loading: boolean;
  /** A newer page is being fetched while the old one stays visible. */
  fetching?: boolean;
  /** Bound to the URL: page, per_page and sort. */
  list: Pick<ListParams<string>, 'page' | 'perPage' | 'sort' | 'setPage' | 'setPerPage' | 'setSort'>;
  getRowId?: (row: T) => string;
  emptyTitle?: string;
  emptyText?: ReactNode;
  /** Shown under the empty text, e.g. a "Create" button. */
  emptyAction?: ReactNode;
  onRowClick?: (row: T) => void;
}

/** The data props of a DataTable from a list query's `{data, meta}` answer:
 * rows, total (and whether it is exact), loading and fetching. */
export function listQueryProps<T>(q: {
  data?: { data: T[]; meta?: { total?: number; total_exact?: boolean } | undefined };
  isPending: boolean;
  isFetching: boolean;
}): Pick<DataTableProps<T>, 'rows' | 'total' | 'totalExact' | 'loading' | 'fetching'> {
  return {
    rows: q.data?.data,
    total: q.data?.meta?.total,
    totalExact: q.data?.meta?.total_exact !== false,
    loading: q.isPending,
    fetching: q.isFetching,
  };
}

/** "-created_at" -> [{id: created_at, desc: true}] */
export function parseSort(sort: string): SortingState {
  if (!sort) return [];
  const desc = sort.startsWith('-');
  return [{ id: desc ? sort.slice(1) : sort, desc }];
}

export function formatSort(s: SortingState): string {
  const first = s[0];
  if (!first) return '';
  return (first.desc ? '-' : '') + first.id;
}

/** A headless TanStack table with server-side paging and sorting. */
export function DataTable<T>({
  label,
  columns,
  rows,
  total,
  totalExact = true,
  loading,
  fetching = false,
  list,
  getRowId,
  emptyTitle = 'Nothing here',
  emptyText = 'No rows match.',
  emptyAction,
  onRowClick,
}: DataTableProps<T>) {
  const sorting = useMemo(() => parseSort(list.sort), [list.sort]);
  const data = useMemo(() => rows ?? [], [rows]);
  const table = useReactTable<T>({
    data,
    columns,
    state: { sorting },
    manualSorting: true,
    manualPagination: true,
    enableSortingRemoval: true,
    enableMultiSort: false,
    getCoreRowModel: getCoreRowModel(),
    getRowId: getRowId ? (r) => getRowId(r) : undefined,
    defaultColumn: { enableSorting: false },
  });

  // Past a capped count one more page stays reachable, so every row can be paged to.
  const pages = Math.max(1, Math.ceil((total ?? 0) / list.perPage) + (totalExact ? 0 : 1));

  const toggleSort = (id: string, meta: DataTableColumnMeta | undefined) => {
    const cur = sorting[0];
    let next = '';
    if (!cur || cur.id !== id) next = meta?.descOnly ? '-' + id : id;
    else if (!cur.desc && !meta?.ascOnly) next = '-' + id;
    else next = '';
    list.setSort(next);
  };

  return (
    <Box pos="relative">
      <Table.ScrollContainer minWidth={600}>
        <Table striped highlightOnHover={!!onRowClick} aria-label={label} aria-busy={loading || fetching} verticalSpacing="xs">
          <Table.Thead>
            {table.getHeaderGroups().map((hg) => (
              <Table.Tr key={hg.id}>
                {hg.headers.map((h) => {
                  const meta = h.column.columnDef.meta as DataTableColumnMeta | undefined;
                  const sortable = h.column.getCanSort();
                  const cur = sorting[0];
                  const dir = cur && cur.id === h.column.id ? (cur.desc ? 'descending' : 'ascending') : undefined;
                  const content = h.isPlaceholder ? null : flexRender(h.column.columnDef.header, h.getContext());
                  return (
                    <Table.Th key={h.id} aria-sort={sortable ? (dir ?? 'none') : undefined} style={meta?.numeric ? { textAlign: 'right' } : undefined}>
                      {sortable ? (
                        <UnstyledButton onClick={() => toggleSort(h.column.id, meta)} style={{ fontWeight: 700 }}>
                          <Group gap={4} wrap="nowrap">
                            {content}
                            {dir === 'ascending' ? <IconArrowUp size={14} aria-hidden /> : dir === 'descending' ? <IconArrowDown size={14} aria-hidden /> : <IconSelector size={14} aria-hidden />}
                            <VisuallyHidden>{dir ? `, sorted ${dir}` : ', sortable'}</VisuallyHidden>
                          </Group>
                        </UnstyledButton>
                      ) : (
                        content
                      )}
                    </Table.Th>
                  );
                })}
              </Table.Tr>
            ))}
          </Table.Thead>
          <Table.Tbody style={{ opacity: fetching && !loading ? 0.6 : 1 }}>
            {table.getRowModel().rows.map((row) => (
              <Table.Tr
                key={row.id}
                onClick={onRowClick ? () => onRowClick(row.original) : undefined}
                style={onRowClick ? { cursor: 'pointer' } : undefined}
              >
                {row.getVisibleCells().map((cell) => {
                  const meta = cell.column.columnDef.meta as DataTableColumnMeta | undefined;
                  return (
                    <Table.Td key={cell.id} style={meta?.numeric ? { textAlign: 'right' } : undefined}>
                      {flexRender(cell.column.columnDef.cell, cell.getContext())}
                    </Table.Td>
                  );
                })}
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
      {loading && (
        <Group justify="center" p="lg">
          <Loader size="sm" aria-label="Loading" />
        </Group>
      )}
      {!loading && data.length === 0 && <EmptyState title={emptyTitle} text={emptyText} action={emptyAction} />}
      <Group justify="space-between" mt="sm" wrap="wrap" gap="xs">
        <Group gap="xs">
          <Text size="sm" c="dimmed" aria-live="polite">
            {total === undefined ? '' : totalExact ? `${total} ${total === 1 ? 'row' : 'rows'}` : `${total.toLocaleString('en')}+ rows`}
          </Text>
          {fetching && !loading && <Loader size="xs" aria-label="Refreshing" />}
        </Group>
        <Group gap="xs">
          <Select
            aria-label="Rows per page"
            size="xs"
            w={90}
            data={PER_PAGE_OPTIONS.map(String)}
            value={String(list.perPage)}
            onChange={(v) => v && list.setPerPage(Number(v))}
            allowDeselect={false}
          />
          <Pagination
            size="sm"
            total={pages}
            value={Math.min(list.page, pages)}
            onChange={list.setPage}
            getControlProps={(c) => ({ 'aria-label': c === 'previous' ? 'Previous page' : c === 'next' ? 'Next page' : c === 'first' ? 'First page' : 'Last page' })}
            getItemProps={(p) => ({ 'aria-label': `Page ${p}` })}
          />
        </Group>
      </Group>
    </Box>
  );
}
