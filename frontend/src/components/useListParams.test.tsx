import { act } from '@testing-library/react';
import { createMemoryRouter, RouterProvider, useLocation } from 'react-router';
import { describe, expect, it } from 'vitest';
import { useListParams } from './useListParams';
import { render } from '@testing-library/react';

function setup(url: string) {
  const out: { list?: ReturnType<typeof useListParams<'status' | 'ca'>>; search?: string } = {};
  function Probe() {
    out.list = useListParams(['status', 'ca'] as const, { perPage: 50, sort: '-created_at' });
    out.search = useLocation().search;
    return null;
  }
  const router = createMemoryRouter([{ path: '*', element: <Probe /> }], { initialEntries: [url] });
  render(<RouterProvider router={router} />);
  return out;
}

describe('useListParams', () => {
  it('reads page, per_page, sort, q and filters from the URL', () => {
    const o = setup('/x?page=3&per_page=25&sort=not_after&q=web&status=revoked');
    expect(o.list!.page).toBe(3);
    expect(o.list!.perPage).toBe(25);
    expect(o.list!.sort).toBe('not_after');
    expect(o.list!.q).toBe('web');
    expect(o.list!.filters).toEqual({ status: 'revoked', ca: '' });
    expect(o.list!.query).toEqual({ page: 3, per_page: 25, sort: 'not_after', q: 'web', status: 'revoked' });
  });

  it('uses defaults and clamps per_page to 200', () => {
    const o = setup('/x?per_page=5000&page=abc');
    expect(o.list!.page).toBe(1);
    expect(o.list!.perPage).toBe(200);
    expect(o.list!.sort).toBe('-created_at');
  });

  it('writes changes to the URL and returns to page 1 on a filter change', () => {
    const o = setup('/x?page=4');
    act(() => o.list!.setFilter('status', 'valid'));
    expect(o.search).toBe('?status=valid');
    act(() => o.list!.setPage(2));
    expect(new URLSearchParams(o.search).get('page')).toBe('2');
    act(() => o.list!.setSort('common_name'));
    const sp = new URLSearchParams(o.search);
    expect(sp.get('sort')).toBe('common_name');
    expect(sp.get('page')).toBeNull();
    act(() => o.list!.setPerPage(50));
    expect(new URLSearchParams(o.search).get('per_page')).toBeNull();
    act(() => o.list!.setQ('abc'));
    expect(new URLSearchParams(o.search).get('q')).toBe('abc');
    act(() => o.list!.setFilters({ status: null, ca: '3' }));
    expect(new URLSearchParams(o.search).get('status')).toBeNull();
    expect(new URLSearchParams(o.search).get('ca')).toBe('3');
    act(() => o.list!.reset());
    expect(o.search).toBe('');
  });
});

