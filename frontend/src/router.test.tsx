import { screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { routes } from './router';
import { me, meRoute, mockFetch, problem, renderApp, VIEWER_PERMISSIONS } from './test/utils';

const empty = { body: { data: [], meta: { total: 0, page: 1, per_page: 50 } } };

describe('app shell and routing', () => {
  it('sends a signed-out user to login, keeping the intended URL', async () => {
    mockFetch({ 'GET /api/v2/auth/me': meRoute(null) });
    const { router } = renderApp(routes, { url: '/audit?user=alice' });
    expect(await screen.findByRole('heading', { name: 'Sign in to certward' })).toBeInTheDocument();
    expect(router.state.location.pathname).toBe('/login');
    expect(router.state.location.search).toBe('?next=' + encodeURIComponent('/audit?user=alice'));
  });

  it('a 401 from any request signs out and goes to login', async () => {
    let expired = false;
    mockFetch({
      'GET /api/v2/auth/me': () => meRoute(expired ? null : me()),
      'GET /api/v2/users': () => (expired ? problem(401, 'unauthorized', 'session expired') : empty),
      'GET /api/v2/roles': { body: { data: [] } },
      'GET /api/v2/account/sessions': empty,
    });
    const { router, qc } = renderApp(routes, { url: '/users' });
    expect(await screen.findByRole('heading', { level: 1, name: 'Users' })).toBeInTheDocument();
    expired = true;
    await qc.invalidateQueries({ queryKey: ['users'] });
    expect(await screen.findByRole('heading', { name: 'Sign in to certward' })).toBeInTheDocument();
    expect(router.state.location.search).toContain(encodeURIComponent('/users'));
  });

  it('shows only the sections the role may read, and "Not permitted" otherwise', async () => {
    mockFetch({
      'GET /api/v2/auth/me': meRoute(me({ username: 'ops', role: 'operator', permissions: ['read:account', 'write:account', 'read:certificates', 'read:cas'] })),
      'GET /api/v2/account/sessions': empty,
    });
    renderApp(routes, { url: '/users' });
    expect(await screen.findByRole('heading', { level: 1, name: 'Not permitted' })).toBeInTheDocument();
    const nav = screen.getByRole('navigation', { name: 'Main navigation' });
    expect(within(nav).getByRole('link', { name: 'Certificates' })).toBeInTheDocument();
    expect(within(nav).getByRole('link', { name: 'Certificate authorities' })).toBeInTheDocument();
    expect(within(nav).queryByRole('link', { name: 'Users' })).not.toBeInTheDocument();
    expect(within(nav).queryByRole('link', { name: 'Audit log' })).not.toBeInTheDocument();
    expect(within(nav).queryByRole('link', { name: 'Settings' })).not.toBeInTheDocument();
  });

  it('has a theme toggle and a user menu with sign out', async () => {
    let out = false;
    const calls = mockFetch({
      'GET /api/v2/auth/me': () => meRoute(out ? null : me({ permissions: VIEWER_PERMISSIONS })),
      'GET /api/v2/account/sessions': empty,
      'GET /api/v2/users': empty,
      'GET /api/v2/roles': { body: { data: [] } },
      'POST /api/v2/auth/logout': () => {
        out = true;
        return { status: 204 };
      },
    });
    const user = userEvent.setup();
    const { router } = renderApp(routes, { url: '/users' });
    await screen.findByRole('heading', { level: 1, name: 'Users' });
    const toggle = screen.getByRole('button', { name: /Switch to (dark|light) theme/ });
    const before = toggle.getAttribute('aria-label');
    await user.click(toggle);
    expect(screen.getByRole('button', { name: /Switch to (dark|light) theme/ }).getAttribute('aria-label')).not.toBe(before);
    expect(localStorage.getItem('certward-color-scheme')).toMatch(/dark|light/);
    await user.click(screen.getByRole('button', { name: 'User menu for admin' }));
    await user.click(await screen.findByText('Sign out'));
    expect(await screen.findByRole('heading', { name: 'Sign in to certward' })).toBeInTheDocument();
    expect(router.state.location.pathname).toBe('/login');
    expect(calls.some((c) => c.method === 'POST' && c.path === '/api/v2/auth/logout')).toBe(true);
  });

  it('sends a session that must enrol in two-factor authentication to the enrolment page', async () => {
    mockFetch({
      'GET /api/v2/auth/me': meRoute(me({ two_factor_enrolment_required: true })),
      'GET /api/v2/account/sessions': problem(403, 'forbidden', 'two-factor enrolment required'),
      'GET /api/v2/account/2fa': { body: { data: { enabled: false, pending: false, required: true } } },
    });
    const { router } = renderApp(routes, { url: '/users' });
    expect(await screen.findByText('Two-factor authentication is required')).toBeInTheDocument();
    expect(router.state.location.pathname).toBe('/account/2fa');
    expect(await screen.findByRole('button', { name: 'Set up two-factor authentication' })).toBeInTheDocument();
  });
});
