import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { getCsrfToken, setCsrfToken } from '../api/client';
import { me, meRoute, mockFetch, renderApp } from '../test/utils';
import { SessionExpiryWarning } from './SessionExpiryWarning';

describe('SessionExpiryWarning', () => {
  it('warns before the session ends and "Stay signed in" logs in afresh', async () => {
    let exp = new Date(Date.now() + 3 * 60_000).toISOString();
    const calls = mockFetch({
      'GET /api/v2/auth/me': meRoute(me({ username: 'alice' })),
      'GET /api/v2/account/sessions': () => ({ body: { data: [{ id: 1, created_at: null, expires_at: exp, last_seen_at: null, client_addr: '', user_agent: '', current: true }] } }),
      'POST /api/v2/auth/login': () => {
        exp = new Date(Date.now() + 8 * 3600_000).toISOString();
        return { body: { data: { user: me(), csrf_token: '1.' + 'e'.repeat(64), expires_in: 28800, must_change_password: false, two_factor_enrolment_required: false } } };
      },
    });
    const user = userEvent.setup();
    renderApp(<SessionExpiryWarning />);
    const dialog = await screen.findByRole('dialog', { name: 'Your session is about to end' });
    expect(within(dialog).getByText(/signed out in about 3 minutes/)).toBeInTheDocument();
    await user.type(within(dialog).getByLabelText('Password'), 'secret');
    await user.click(within(dialog).getByRole('button', { name: 'Stay signed in' }));
    await waitFor(() => expect(calls.some((c) => c.path === '/api/v2/auth/login')).toBe(true));
    expect(calls.find((c) => c.path === '/api/v2/auth/login')!.body).toEqual({ username: 'alice', password: 'secret' });
    await waitFor(() => expect(screen.queryByRole('dialog', { name: 'Your session is about to end' })).not.toBeInTheDocument());
    expect(getCsrfToken()).toBe('1.' + 'c'.repeat(64));
    setCsrfToken(null);
  });

  it('stays quiet while the session has long to run', async () => {
    const calls = mockFetch({
      'GET /api/v2/auth/me': meRoute(me()),
      'GET /api/v2/account/sessions': { body: { data: [{ id: 1, created_at: null, expires_at: new Date(Date.now() + 3600_000).toISOString(), last_seen_at: null, client_addr: '', user_agent: '', current: true }] } },
    });
    renderApp(<SessionExpiryWarning />);
    await waitFor(() => expect(calls.some((c) => c.path === '/api/v2/account/sessions')).toBe(true));
    await new Promise((r) => setTimeout(r, 50));
    expect(screen.queryByRole('dialog')).not.toBeInTheDocument();
  });
});
