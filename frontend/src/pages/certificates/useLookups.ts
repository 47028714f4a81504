import { useMemo } from 'react';
import { useQuery } from '@tanstack/react-query';
import { api } from '../../api/client';
import { useAuth } from '../../auth/AuthContext';
import type { Ca, Template } from './pki';

/** Every CA (first 200), for selects and the CA column; only asked with read:cas. */
export function useCaList() {
  const { can } = useAuth();
  const q = useQuery({
    queryKey: ['cas', 'all'],
    queryFn: () => api.get<Ca[]>('/cas', { per_page: 200, sort: 'name' }),
    enabled: can('read:cas'),
    staleTime: 60_000,
  });
  const byId = useMemo(() => new Map((q.data?.data ?? []).map((c) => [c.id, c])), [q.data]);
  return { cas: q.data?.data ?? [], byId, query: q };
}

/** Built-in and custom templates; only asked with read:templates. */
export function useTemplates() {
  const { can } = useAuth();
  const q = useQuery({
    queryKey: ['templates'],
    queryFn: () => api.get<Template[]>('/templates'),
    enabled: can('read:templates'),
    staleTime: 60_000,
  });
  return { templates: q.data?.data ?? [], query: q };
}
