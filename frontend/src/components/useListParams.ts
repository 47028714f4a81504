import { useCallback, useMemo } from 'react';
import { useSearchParams } from 'react-router';

/**
 * List state kept in the URL query string (bookmarkable): page, per_page,
 * sort, q and any typed filters named in `filterKeys`. Values equal to their
 * default are left out of the URL. Changing a filter, q, sort or per_page
 * goes back to page 1.
 */
export interface ListParams<F extends string = string> {
  page: number;
  perPage: number;
  sort: string;
  q: string;
  filters: Record<F, string>;
  setPage: (page: number) => void;
  setPerPage: (perPage: number) => void;
  setSort: (sort: string) => void;
  setQ: (q: string) => void;
  setFilter: (key: F, value: string | null) => void;
  /** Set several filters (and q) at once. */
  setFilters: (values: Partial<Record<F | 'q', string | null>>) => void;
  reset: () => void;
  /** page, per_page, sort, q and the non-empty filters, ready for api.get(). */
  query: Record<string, string | number>;
}

export interface ListDefaults {
  perPage?: number;
  sort?: string;
}

export const PER_PAGE_OPTIONS = [10, 25, 50, 100, 200];
export const MAX_PER_PAGE = 200;

function toInt(v: string | null, dflt: number, min: number, max: number): number {
  if (!v || !/^\d+$/.test(v)) return dflt;
  const n = Number(v);
  if (n < min) return min;
  if (n > max) return max;
  return n;
}

export function useListParams<F extends string = never>(filterKeys: readonly F[] = [], defaults: ListDefaults = {}): ListParams<F> {
  const [sp, setSp] = useSearchParams();
  const dPer = defaults.perPage ?? 50;
  const dSort = defaults.sort ?? '';
  const keysSig = filterKeys.join(',');

  const page = toInt(sp.get('page'), 1, 1, 1_000_000_000);
  const perPage = toInt(sp.get('per_page'), dPer, 1, MAX_PER_PAGE);
  const sort = sp.get('sort') ?? dSort;
  const q = sp.get('q') ?? '';
  const filters = useMemo(() => {
    const o = {} as Record<F, string>;
    for (const k of keysSig ? (keysSig.split(',') as F[]) : []) o[k] = sp.get(k) ?? '';
    return o;
  }, [sp, keysSig]);

  const update = useCallback(
    (changes: Record<string, string | number | null>, resetPage: boolean) => {
      setSp(
        (prev) => {
          const next = new URLSearchParams(prev);
          for (const [k, v] of Object.entries(changes)) {
            const s = v === null ? '' : String(v);
            const isDefault = (k === 'per_page' && s === String(dPer)) || (k === 'sort' && s === dSort) || (k === 'page' && s === '1');
            if (s === '' || isDefault) next.delete(k);
            else next.set(k, s);
          }
          if (resetPage) next.delete('page');
          return next;
        },
        { replace: false },
      );
    },
    [setSp, dPer, dSort],
  );

  const setPage = useCallback((p: number) => update({ page: p }, false), [update]);
  const setPerPage = useCallback((n: number) => update({ per_page: n }, true), [update]);
  const setSort = useCallback((s: string) => update({ sort: s }, true), [update]);
  const setQ = useCallback((v: string) => update({ q: v }, true), [update]);
  const setFilter = useCallback((k: F, v: string | null) => update({ [k]: v }, true), [update]);
  const setFilters = useCallback((vals: Partial<Record<F | 'q', string | null>>) => update(vals as Record<string, string | null>, true), [update]);
  const reset = useCallback(() => setSp(new URLSearchParams()), [setSp]);

  const query = useMemo(() => {
    const o: Record<string, string | number> = { page, per_page: perPage };
    if (sort) o.sort = sort;
    if (q) o.q = q;
    for (const [k, v] of Object.entries(filters) as [string, string][]) if (v) o[k] = v;
    return o;
  }, [page, perPage, sort, q, filters]);

  return { page, perPage, sort, q, filters, setPage, setPerPage, setSort, setQ, setFilter, setFilters, reset, query };
}
