import { describe, expect, it, vi } from 'vitest';
import { api, ApiError, buildUrl, setCsrfToken, setUnauthorizedHandler } from './client';
import { mockFetch, problem } from '../test/utils';

describe('api client', () => {
  it('sends X-CSRF-Token on state-changing requests only', async () => {
    const calls = mockFetch({
      'GET /api/v2/users': { body: { data: [], meta: { total: 0, page: 1, per_page: 50 } } },
      'POST /api/v2/users': { status: 201, body: { data: { id: 5 } } },
      'DELETE /api/v2/users/5': { status: 204 },
      'PATCH /api/v2/users/5': { body: { data: { id: 5 } } },
      'PUT /api/v2/roles/2': { body: { data: { id: 2 } } },
    });
    setCsrfToken('1.abc');
    await api.get('/users', { page: 2, q: '', role: null, per_page: 25 });
    await api.post('/users', { username: 'x' });
    await api.patch('/users/5', { active: false });
    await api.put('/roles/2', { permissions: [] });
    const del = await api.del('/users/5');
    expect(del.data).toBeUndefined();
    expect(calls[0]!.headers['x-csrf-token']).toBeUndefined();
    expect(calls[0]!.url).toBe('/api/v2/users?page=2&per_page=25');
    for (const c of calls.slice(1)) expect(c.headers['x-csrf-token']).toBe('1.abc');
    expect(calls[1]!.headers['content-type']).toBe('application/json');
    expect(calls[1]!.body).toEqual({ username: 'x' });
    setCsrfToken(null);
  });

  it('returns data and meta of a list', async () => {
    mockFetch({ 'GET /api/v2/audit': { body: { data: [{ id: 1 }], meta: { total: 7, page: 1, per_page: 1 } } } });
    const r = await api.get<{ id: number }[]>('/audit');
    expect(r.data).toEqual([{ id: 1 }]);
    expect(r.meta?.total).toBe(7);
  });

  it('maps problem+json to a typed ApiError with field', async () => {
    mockFetch({ 'POST /api/v2/users': problem(400, 'bad_request', 'username is required', { field: 'username' }) });
    const err = await api.post('/users', {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    const e = err as ApiError;
    expect(e.status).toBe(400);
    expect(e.code).toBe('bad_request');
    expect(e.field).toBe('username');
    expect(e.detail).toBe('username is required');
    expect(e.requestId).toBe('a'.repeat(32));
    expect(e.message).toBe('username is required');
  });

  it('maps a non-JSON error answer to an ApiError', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => new Response('<html>bad gateway</html>', { status: 502, statusText: 'Bad Gateway', headers: { 'Content-Type': 'text/html' } })));
    const e = (await api.get('/users').catch((x: unknown) => x)) as ApiError;
    expect(e).toBeInstanceOf(ApiError);
    expect(e.status).toBe(502);
    expect(e.code).toBe('http_502');
  });

  it('maps a network failure to status 0', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => { throw new TypeError('Failed to fetch'); }));
    const e = (await api.get('/users').catch((x: unknown) => x)) as ApiError;
    expect(e.status).toBe(0);
    expect(e.code).toBe('network_error');
  });

  it('calls the 401 handler unless noAuthRedirect', async () => {
    mockFetch({ 'GET /api/v2/users': problem(401, 'unauthorized', 'authentication required') });
    const seen: number[] = [];
    setUnauthorizedHandler((e) => seen.push(e.status));
    await expect(api.get('/users')).rejects.toMatchObject({ status: 401 });
    expect(seen).toEqual([401]);
    await expect(api.get('/users', undefined, { noAuthRedirect: true })).rejects.toMatchObject({ status: 401 });
    expect(seen).toEqual([401]);
    setUnauthorizedHandler(null);
  });

  it('does not call the 401 handler for 403', async () => {
    mockFetch({ 'GET /api/v2/users': problem(403, 'forbidden', 'permission read:users required') });
    const seen: number[] = [];
    setUnauthorizedHandler((e) => seen.push(e.status));
    await expect(api.get('/users')).rejects.toMatchObject({ status: 403, code: 'forbidden' });
    expect(seen).toEqual([]);
    setUnauthorizedHandler(null);
  });

  it('builds URLs with repeated and skipped parameters', () => {
    expect(buildUrl('/certificates', { status: ['valid', 'revoked'], q: undefined })).toBe('/api/v2/certificates?status=valid&status=revoked');
    expect(buildUrl('/api/health')).toBe('/api/health');
  });
});
