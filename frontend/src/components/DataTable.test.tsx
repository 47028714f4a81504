import { screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import type { ColumnDef } from '@tanstack/react-table';
import { useLocation } from 'react-router';
import { describe, expect, it } from 'vitest';
import { api } from '../api/client';
import { DataTable, formatSort, listQueryProps, parseSort } from './DataTable';
import { useListParams } from './useListParams';
import { me, meRoute, mockFetch, renderApp } from '../test/utils';

interface Row {
  id: number;
  name: string;
}

const columns: ColumnDef<Row, any>[] = [
  { id: 'id', header: 'Id', accessorKey: 'id', enableSorting: true },
  { id: 'name', header: 'Name', accessorKey: 'name' },
];

let search = '';
function Things() {
  const list = useListParams([], { perPage: 10 });
  search = useLocation().search;
  const q = useQuery({ queryKey: ['things', list.query], queryFn: () => api.get<Row[]>('/things', list.query), placeholderData: keepPreviousData });
  return <DataTable label="Things" columns={columns} {...listQueryProps(q)} list={list} emptyTitle="No things" />;
}

function rowsFor(page: number, per: number, total: number, desc: boolean): Row[] {
  const all = Array.from({ length: total }, (_, i) => ({ id: i + 1, name: `thing ${i + 1}` }));
  if (desc) all.reverse();
  return all.slice((page - 1) * per, page * per);
}

describe('DataTable', () => {
  it('parses and formats sort strings', () => {
    expect(parseSort('-created_at')).toEqual([{ id: 'created_at', desc: true }]);
    expect(parseSort('')).toEqual([]);
    expect(formatSort([{ id: 'x', desc: false }])).toBe('x');
  });

  it('pages and sorts on the server, keeping the state in the URL', async () => {
    const calls = mockFetch({
      'GET /api/v2/auth/me': meRoute(me()),
      'GET /api/v2/things': (c) => {
        const page = Number(c.query.get('page'));
        const per = Number(c.query.get('per_page'));
        return { body: { data: rowsFor(page, per, 23, c.query.get('sort') === '-id'), meta: { total: 23, page, per_page: per } } };
      },
    });
    const user = userEvent.setup();
    renderApp(<Things />, { url: '/things' });
    const table = await screen.findByRole('table', { name: 'Things' });
    expect(await within(table).findByText('thing 1')).toBeInTheDocument();
    expect(screen.getByText('23 rows')).toBeInTheDocument();

    await user.click(screen.getByRole('button', { name: 'Page 3' }));
    expect(await within(table).findByText('thing 21')).toBeInTheDocument();
    expect(within(table).queryByText('thing 1')).not.toBeInTheDocument();
    expect(new URLSearchParams(search).get('page')).toBe('3');
    const last = calls.filter((c) => c.path === '/api/v2/things').at(-1)!;
    expect(last.query.get('page')).toBe('3');
    expect(last.query.get('per_page')).toBe('10');

    // Sorting: ascending, then descending; back to page 1.
    await user.click(screen.getByRole('button', { name: /Id/ }));
    expect(new URLSearchParams(search).get('sort')).toBe('id');
    expect(new URLSearchParams(search).get('page')).toBeNull();
    await user.click(screen.getByRole('button', { name: /Id/ }));
    expect(new URLSearchParams(search).get('sort')).toBe('-id');
    expect(await within(table).findByText('thing 23')).toBeInTheDocument();
    expect(screen.getByRole('columnheader', { name: /Id/ })).toHaveAttribute('aria-sort', 'descending');
    expect(calls.filter((c) => c.path === '/api/v2/things').at(-1)!.query.get('sort')).toBe('-id');
  });

  it('shows an empty state', async () => {
    mockFetch({
      'GET /api/v2/auth/me': meRoute(me()),
      'GET /api/v2/things': { body: { data: [], meta: { total: 0, page: 1, per_page: 10 } } },
    });
    renderApp(<Things />, { url: '/things' });
    expect(await screen.findByText('No things')).toBeInTheDocument();
    expect(screen.getByText('0 rows')).toBeInTheDocument();
  });

  it('reads the page from a bookmarked URL', async () => {
    const calls = mockFetch({
      'GET /api/v2/auth/me': meRoute(me()),
      'GET /api/v2/things': (c) => ({ body: { data: rowsFor(Number(c.query.get('page')), 10, 23, false), meta: { total: 23, page: 2, per_page: 10 } } }),
    });
    renderApp(<Things />, { url: '/things?page=2&sort=id' });
    expect(await screen.findByText('thing 11')).toBeInTheDocument();
    const c = calls.find((x) => x.path === '/api/v2/things')!;
    expect(c.query.get('page')).toBe('2');
    expect(c.query.get('sort')).toBe('id');
  });

  it('shows a capped total as a lower bound and keeps the next page reachable', async () => {
    const calls = mockFetch({
      'GET /api/v2/auth/me': meRoute(me()),
      'GET /api/v2/things': (c) => {
        const page = Number(c.query.get('page'));
        return { body: { data: rowsFor(page, 10, 10010, false), meta: { total: 10000, total_exact: false, page, per_page: 10 } } };
      },
    });
    const user = userEvent.setup();
    renderApp(<Things />, { url: '/things?page=1000' });
    expect(await screen.findByText('thing 9991')).toBeInTheDocument();
    expect(screen.getByText('10,000+ rows')).toBeInTheDocument();
    await user.click(screen.getByRole('button', { name: 'Next page' }));
    expect(await screen.findByText('thing 10001')).toBeInTheDocument();
    expect(calls.filter((c) => c.path === '/api/v2/things').at(-1)!.query.get('page')).toBe('1001');
  });
});
