// Test helpers: render inside the app's providers with a memory router, and
// a fetch mock answering by "METHOD /path" with JSON or problem+json.
import type { ReactElement } from 'react';
import { render } from '@testing-library/react';
import { MantineProvider } from '@mantine/core';
import { Notifications } from '@mantine/notifications';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { createMemoryRouter, RouterProvider, type RouteObject } from 'react-router';
import { vi } from 'vitest';
import { AuthProvider } from '../auth/AuthContext';
import { theme, cssVariablesResolver } from '../theme';
import { colorSchemeManager } from '../App';
import type { Me } from '../api/types';

export interface MockCall {
  method: string;
  url: string;
  path: string;
  query: URLSearchParams;
  headers: Record<string, string>;
  body: unknown;
}

export type MockAnswer = { status?: number; body?: unknown; headers?: Record<string, string> } | ((call: MockCall) => { status?: number; body?: unknown; headers?: Record<string, string> });

/**
 * Replaces global fetch. `routes` maps "GET /api/v2/users" (path without
 * query) to an answer; unknown routes answer 404 problem+json. Returns the
 * recorded calls.
 */
export function mockFetch(routes: Record<string, MockAnswer>) {
  const calls: MockCall[] = [];
  const fn = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const u = new URL(url, 'http://localhost');
    const method = (init?.method ?? 'GET').toUpperCase();
    const headers: Record<string, string> = {};
    const h = init?.headers as Record<string, string> | undefined;
    if (h) for (const [k, v] of Object.entries(h)) headers[k.toLowerCase()] = v;
    const call: MockCall = { method, url, path: u.pathname, query: u.searchParams, headers, body: init?.body ? JSON.parse(String(init.body)) : undefined };
    calls.push(call);
    const a = routes[`${method} ${u.pathname}`];
    if (!a) {
      return new Response(JSON.stringify({ title: 'Not found', status: 404, code: 'not_found', detail: `no mock for ${method} ${u.pathname}` }), {
        status: 404,
        headers: { 'Content-Type': 'application/problem+json' },
      });
    }
    const ans = typeof a === 'function' ? a(call) : a;
    const status = ans.status ?? 200;
    if (status === 204) return new Response(null, { status });
    const isProblem = status >= 400;
    const body = typeof ans.body === 'string' ? ans.body : JSON.stringify(ans.body ?? {});
    return new Response(body, {
      status,
      headers: { 'Content-Type': isProblem ? 'application/problem+json' : 'application/json', ...(ans.headers ?? {}) },
    });
  });
  vi.stubGlobal('fetch', fn);
  return calls;
}

export function problem(status: number, code: string, detail: string, extra: Record<string, unknown> = {}) {
  return { status, body: { type: `urn:certward:problem:${code}`, title: code, status, code, detail, request_id: 'a'.repeat(32), ...extra } };
}

export const ALL_PERMISSIONS = [
  'read:account', 'write:account', 'read:system', 'read:cas', 'write:cas', 'delete:cas',
  'read:certificates', 'write:certificates', 'revoke:certificates', 'delete:certificates',
  'read:csrs', 'write:csrs', 'delete:csrs', 'read:templates', 'write:templates', 'read:crl', 'write:crl',
  'read:users', 'write:users', 'read:roles', 'write:roles', 'read:audit', 'export:audit',
  'read:settings', 'write:settings', 'export:private_keys',
];

export const VIEWER_PERMISSIONS = ALL_PERMISSIONS.filter((p) => p.startsWith('read:') || p === 'write:account');

export function me(overrides: Partial<Me> = {}): Me {
  return {
    id: 1, username: 'admin', email: null, role: 'admin', active: true, must_change_password: false,
    two_factor_enabled: false, created_at: '2026-01-01T00:00:00Z', permissions: ALL_PERMISSIONS,
    two_factor_enrolment_required: false, auth: 'session', ...overrides,
  };
}

/** A /auth/me answer for mockFetch. */
export function meRoute(user: Me | null) {
  return user ? { body: { data: { user, csrf_token: '1.' + 'c'.repeat(64) } } } : problem(401, 'unauthorized', 'authentication required');
}

/** Renders `routes` (or one element at `path`) at `url` inside every provider. */
export function renderApp(ui: ReactElement | RouteObject[], { url = '/', path = '*' }: { url?: string; path?: string } = {}) {
  const qc = new QueryClient({ defaultOptions: { queries: { retry: false, staleTime: Infinity }, mutations: { retry: false } } });
  const routes: RouteObject[] = Array.isArray(ui)
    ? ui
    : [
        { path, element: ui },
        { path: '/login', element: <div>login page</div> },
      ];
  const router = createMemoryRouter(routes, { initialEntries: [url] });
  const r = render(
    <MantineProvider theme={theme} cssVariablesResolver={cssVariablesResolver} defaultColorScheme="auto" colorSchemeManager={colorSchemeManager}>
      <Notifications />
      <QueryClientProvider client={qc}>
        <AuthProvider>
          <RouterProvider router={router} />
        </AuthProvider>
      </QueryClientProvider>
    </MantineProvider>,
  );
  return { ...r, router, qc };
}

/** Resolves once the auth context holds the signed-in user (permissions are known). */
export async function whenSignedIn(qc: QueryClient): Promise<void> {
  const { waitFor } = await import('@testing-library/react');
  await waitFor(() => {
    if (!qc.getQueryData(['auth', 'me'])) throw new Error('not signed in yet');
  });
}
