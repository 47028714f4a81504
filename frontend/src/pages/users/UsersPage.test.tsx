import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import type { User } from '../../api/types';
import { me, meRoute, mockFetch, problem, renderApp, VIEWER_PERMISSIONS, whenSignedIn } from '../../test/utils';
import UsersPage from './UsersPage';

const alice: User = { id: 2, username: 'alice', email: 'alice@example.com', role: 'operator', active: true, must_change_password: false, two_factor_enabled: true, created_at: '2026-01-02T00:00:00Z' };
const roles = { body: { data: [
  { id: 1, name: 'admin', description: '', builtin: true, permissions: [], users: 1 },
  { id: 2, name: 'operator', description: '', builtin: true, permissions: [], users: 1 },
  { id: 3, name: 'viewer', description: '', builtin: true, permissions: [], users: 0 },
] } };

describe('UsersPage', () => {
  it('lists users with the search and role filter in the URL', async () => {
    const calls = mockFetch({
      'GET /api/v2/auth/me': meRoute(me()),
      'GET /api/v2/roles': roles,
      'GET /api/v2/users': (c) => ({ body: { data: c.query.get('q') === 'zzz' ? [] : [alice], meta: { total: c.query.get('q') === 'zzz' ? 0 : 1, page: 1, per_page: 50 } } }),
    });
    const user = userEvent.setup();
    const { router } = renderApp(<UsersPage />, { url: '/users?role=operator' });
    const table = await screen.findByRole('table', { name: 'Users' });
    await waitFor(() => expect(within(table).getByText('alice')).toBeInTheDocument());
    expect(calls.find((c) => c.path === '/api/v2/users')!.query.get('role')).toBe('operator');
    await user.type(screen.getByLabelText('Search'), 'zzz{Enter}');
    expect(await screen.findByText('No user matches these filters.')).toBeInTheDocument();
    expect(router.state.location.search).toContain('q=zzz');
    expect(calls.filter((c) => c.path === '/api/v2/users').at(-1)!.query.get('q')).toBe('zzz');
  });

  it('a viewer sees no write buttons', async () => {
    mockFetch({
      'GET /api/v2/auth/me': meRoute(me({ role: 'viewer', permissions: VIEWER_PERMISSIONS })),
      'GET /api/v2/roles': roles,
      'GET /api/v2/users': { body: { data: [alice], meta: { total: 1, page: 1, per_page: 50 } } },
    });
    const { qc } = renderApp(<UsersPage />, { url: '/users' });
    await whenSignedIn(qc);
    await waitFor(() => expect(screen.getByText('alice')).toBeInTheDocument());
    expect(screen.queryByRole('button', { name: 'Create user' })).not.toBeInTheDocument();
    expect(screen.queryByRole('button', { name: 'Actions for alice' })).not.toBeInTheDocument();
  });

  it('creates a user and shows a field error from the API next to the field', async () => {
    let created = false;
    const calls = mockFetch({
      'GET /api/v2/auth/me': meRoute(me()),
      'GET /api/v2/roles': roles,
      'GET /api/v2/users/password-policy': { body: { data: { min_length: 12, max_length: 128, require_upper: false, require_lower: false, require_digit: false, require_special: false, max_run: 3, blocklist: true } } },
      'POST /api/v2/users/password-strength': { body: { data: { score: 90, meets_policy: true } } },
      'GET /api/v2/users': () => ({ body: { data: created ? [alice, { ...alice, id: 3, username: 'bob' }] : [alice], meta: { total: created ? 2 : 1, page: 1, per_page: 50 } } }),
      'POST /api/v2/users': (c) => {
        const b = c.body as { username: string };
        if (b.username === 'alice') return problem(409, 'conflict', 'username is taken', { field: 'username' });
        created = true;
        return { status: 201, body: { data: { ...alice, id: 3, username: 'bob' } } };
      },
    });
    const user = userEvent.setup();
    renderApp(<UsersPage />, { url: '/users' });
    await user.click(await screen.findByRole('button', { name: 'Create user' }));
    const dialog = await screen.findByRole('dialog', { name: 'Create user' });
    await user.type(within(dialog).getByLabelText(/Username/), 'alice');
    await user.type(within(dialog).getByLabelText(/^Password/), 'a long enough password');
    await user.click(within(dialog).getByRole('button', { name: 'Create' }));
    expect(await within(dialog).findByText('username is taken')).toBeInTheDocument();
    await user.clear(within(dialog).getByLabelText(/Username/));
    await user.type(within(dialog).getByLabelText(/Username/), 'bob');
    await user.click(within(dialog).getByRole('button', { name: 'Create' }));
    await waitFor(() => expect(screen.queryByRole('dialog', { name: 'Create user' })).not.toBeInTheDocument());
    expect(await screen.findByText('bob')).toBeInTheDocument();
    const post = calls.filter((c) => c.method === 'POST' && c.path === '/api/v2/users').at(-1)!;
    expect(post.body).toEqual({ username: 'bob', password: 'a long enough password', role: 'viewer', must_change_password: true });
  });

  it('resets two-factor authentication after confirmation', async () => {
    const calls = mockFetch({
      'GET /api/v2/auth/me': meRoute(me()),
      'GET /api/v2/roles': roles,
      'GET /api/v2/users': { body: { data: [alice], meta: { total: 1, page: 1, per_page: 50 } } },
      'POST /api/v2/users/2/reset-2fa': { status: 204 },
    });
    const user = userEvent.setup();
    renderApp(<UsersPage />, { url: '/users' });
    await user.click(await screen.findByRole('button', { name: 'Actions for alice' }));
    await user.click(await screen.findByText('Reset two-factor authentication'));
    const dialog = await screen.findByRole('dialog', { name: 'Reset two-factor authentication' });
    await user.click(within(dialog).getByRole('button', { name: 'Reset' }));
    await waitFor(() => expect(calls.some((c) => c.method === 'POST' && c.path === '/api/v2/users/2/reset-2fa')).toBe(true));
  });
});
