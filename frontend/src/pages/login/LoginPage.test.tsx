import { screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { getCsrfToken, setCsrfToken } from '../../api/client';
import { routes } from '../../router';
import { me, meRoute, mockFetch, problem, renderApp } from '../../test/utils';
import { safeNext } from './safeNext';

const loginOk = (overrides: Record<string, unknown> = {}) => ({
  body: { data: { user: me(), csrf_token: '1.' + 'a'.repeat(64), expires_in: 3600, must_change_password: false, two_factor_enrolment_required: false, ...overrides } },
});

describe('LoginPage', () => {
  it('signs in and goes to the intended page', async () => {
    let signedIn = false;
    const calls = mockFetch({
      'GET /api/v2/auth/me': () => meRoute(signedIn ? me() : null),
      'POST /api/v2/auth/login': () => {
        signedIn = true;
        return loginOk();
      },
      'GET /api/v2/users': { body: { data: [], meta: { total: 0, page: 1, per_page: 50 } } },
      'GET /api/v2/roles': { body: { data: [] } },
      'GET /api/v2/account/sessions': { body: { data: [], meta: { total: 0, page: 1, per_page: 50 } } },
    });
    const user = userEvent.setup();
    const { router } = renderApp(routes, { url: '/login?next=%2Fusers%3Frole%3Dadmin' });
    await user.type(await screen.findByLabelText(/Username/), 'admin');
    await user.type(screen.getByLabelText(/Password/), 'correct horse battery');
    await user.click(screen.getByRole('button', { name: 'Sign in' }));
    expect(await screen.findByRole('heading', { level: 1, name: 'Users' })).toBeInTheDocument();
    expect(router.state.location.pathname + router.state.location.search).toBe('/users?role=admin');
    const login = calls.find((c) => c.path === '/api/v2/auth/login')!;
    expect(login.body).toEqual({ username: 'admin', password: 'correct horse battery' });
    // The CSRF token of the /auth/me answer is used from now on.
    expect(getCsrfToken()).toBe('1.' + 'c'.repeat(64));
    setCsrfToken(null);
  });

  it('asks for the second factor when the API answers totp_required', async () => {
    let signedIn = false;
    const calls = mockFetch({
      'GET /api/v2/auth/me': () => meRoute(signedIn ? me() : null),
      'POST /api/v2/auth/login': (c) => {
        const b = c.body as { totp?: string };
        if (!b.totp) return problem(401, 'totp_required', 'a second factor is required', { field: 'totp' });
        if (b.totp !== '123456') return problem(401, 'unauthorized', 'invalid username or password');
        signedIn = true;
        return loginOk();
      },
      'GET /api/v2/dashboard/stats': { body: { data: { certificates: { total: 0, valid: 0, revoked: 0, expired: 0, expiring_7d: 0, expiring_30d: 0 }, cas: { total: 0, active: 0 }, issued_per_day: [] } } },
      'GET /api/v2/cas': { body: { data: [], meta: { total: 0, page: 1, per_page: 20 } } },
      'GET /api/v2/audit': { body: { data: [], meta: { total: 0, page: 1, per_page: 10 } } },
      'GET /api/v2/account/sessions': { body: { data: [], meta: { total: 0, page: 1, per_page: 50 } } },
    });
    const user = userEvent.setup();
    renderApp(routes, { url: '/login' });
    await user.type(await screen.findByLabelText(/Username/), 'alice');
    await user.type(screen.getByLabelText(/Password/), 'pw');
    await user.click(screen.getByRole('button', { name: 'Sign in' }));
    const code = await screen.findByLabelText(/Authentication code/);
    await user.type(code, '000000');
    await user.click(screen.getByRole('button', { name: 'Verify' }));
    expect(await screen.findByRole('alert')).toHaveTextContent('not valid');
    await user.type(screen.getByLabelText(/Authentication code/), '123 456');
    await user.click(screen.getByRole('button', { name: 'Verify' }));
    expect(await screen.findByRole('heading', { level: 1, name: 'Dashboard' })).toBeInTheDocument();
    const last = calls.filter((c) => c.path === '/api/v2/auth/login').at(-1)!;
    expect(last.body).toEqual({ username: 'alice', password: 'pw', totp: '123456' });
  });

  it('shows a wrong password and a lockout as errors', async () => {
    let n = 0;
    mockFetch({
      'GET /api/v2/auth/me': meRoute(null),
      'POST /api/v2/auth/login': () => (++n === 1 ? problem(401, 'unauthorized', 'invalid username or password') : problem(423, 'locked', 'account locked; try again in 900 seconds')),
    });
    const user = userEvent.setup();
    renderApp(routes, { url: '/login' });
    await user.type(await screen.findByLabelText(/Username/), 'bob');
    await user.type(screen.getByLabelText(/Password/), 'nope');
    await user.click(screen.getByRole('button', { name: 'Sign in' }));
    expect(await screen.findByRole('alert')).toHaveTextContent('Invalid username or password.');
    await user.click(screen.getByRole('button', { name: 'Sign in' }));
    await waitFor(() => expect(screen.getByRole('alert')).toHaveTextContent('account locked'));
  });

  it('sends an account that must change its password to the change form, then on', async () => {
    let state: 'out' | 'must' | 'ok' = 'out';
    const calls = mockFetch({
      'GET /api/v2/auth/me': () => meRoute(state === 'out' ? null : me({ must_change_password: state === 'must' })),
      'POST /api/v2/auth/login': () => {
        state = 'must';
        return loginOk({ must_change_password: true });
      },
      'GET /api/v2/users/password-policy': { body: { data: { min_length: 12, max_length: 128, require_upper: false, require_lower: false, require_digit: false, require_special: false, max_run: 3, blocklist: true } } },
      'POST /api/v2/users/password-strength': { body: { data: { score: 80, meets_policy: true } } },
      'POST /api/v2/account/password': (c) => {
        const b = c.body as { new_password: string };
        if (b.new_password.length < 12) return problem(400, 'weak_password', 'password is shorter than 12 characters', { field: 'new_password' });
        state = 'ok';
        return { status: 204 };
      },
      'GET /api/v2/account/sessions': { body: { data: [], meta: { total: 0, page: 1, per_page: 50 } } },
      'GET /api/v2/audit': { body: { data: [], meta: { total: 0, page: 1, per_page: 50 } } },
    });
    const user = userEvent.setup();
    const { router } = renderApp(routes, { url: '/login?next=%2Faudit' });
    await user.type(await screen.findByLabelText(/Username/), 'new');
    await user.type(screen.getByLabelText(/Password/), 'temporary');
    await user.click(screen.getByRole('button', { name: 'Sign in' }));
    expect(await screen.findByRole('heading', { name: 'Change your password' })).toBeInTheDocument();
    expect(await screen.findByText(/12 to 128 characters/)).toBeInTheDocument();
    await user.type(screen.getByLabelText(/Current password/), 'temporary');
    await user.type(screen.getByLabelText(/^New password/), 'short');
    await user.type(screen.getByLabelText(/Repeat the new password/), 'short');
    await user.click(screen.getByRole('button', { name: 'Change password' }));
    // The problem's field puts the message next to the new password.
    expect(await screen.findByText('password is shorter than 12 characters')).toBeInTheDocument();
    expect(screen.getByLabelText(/^New password/).closest('.mantine-InputWrapper-root')).toHaveTextContent('password is shorter than 12 characters');
    await user.clear(screen.getByLabelText(/^New password/));
    await user.type(screen.getByLabelText(/^New password/), 'a much longer passphrase');
    await user.clear(screen.getByLabelText(/Repeat the new password/));
    await user.type(screen.getByLabelText(/Repeat the new password/), 'a much longer passphrase');
    await user.click(screen.getByRole('button', { name: 'Change password' }));
    expect(await screen.findByRole('heading', { level: 1, name: 'Audit log' })).toBeInTheDocument();
    expect(router.state.location.pathname).toBe('/audit');
    const change = calls.find((c) => c.path === '/api/v2/account/password' && (c.body as { new_password: string }).new_password.length > 12)!;
    expect(change.headers['x-csrf-token']).toBeTruthy();
  });

  it('accepts only local paths as next', () => {
    expect(safeNext('/users?x=1')).toBe('/users?x=1');
    expect(safeNext('//evil.example')).toBe('/');
    expect(safeNext('https://evil.example')).toBe('/');
    expect(safeNext('/login')).toBe('/');
    expect(safeNext(null)).toBe('/');
  });
});
