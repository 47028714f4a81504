import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { me, meRoute, mockFetch, renderApp } from '../../test/utils';
import AccountPage from './AccountPage';

const sessions = [
  { id: 1, created_at: '2026-03-01T10:00:00Z', expires_at: '2099-03-01T18:00:00Z', last_seen_at: null, client_addr: '127.0.0.1', user_agent: 'Firefox', current: true },
  { id: 2, created_at: '2026-02-01T10:00:00Z', expires_at: '2099-02-01T18:00:00Z', last_seen_at: null, client_addr: '10.1.1.1', user_agent: 'curl', current: false },
];

describe('AccountPage', () => {
  it('creates an API key and shows the token once', async () => {
    let keys: unknown[] = [];
    const calls = mockFetch({
      'GET /api/v2/auth/me': meRoute(me()),
      'GET /api/v2/account/sessions': { body: { data: sessions } },
      'GET /api/v2/account/api-keys': () => ({ body: { data: keys, meta: { total: keys.length, page: 1, per_page: 200 } } }),
      'POST /api/v2/account/api-keys': (c) => {
        keys = [{ id: 9, name: 'ci', prefix: 'cwk_0123abcd', scopes: ['read:cas'], created_at: '2026-03-01T00:00:00Z', expires_at: null, last_used_at: null, revoked_at: null }];
        return { status: 201, body: { data: { id: 9, name: (c.body as { name: string }).name, prefix: 'cwk_0123abcd', token: 'cwk_' + 'f'.repeat(64), scopes: ['read:cas'] } } };
      },
    });
    const user = userEvent.setup();
    renderApp(<AccountPage />, { url: '/account/api-keys' });
    expect(await screen.findByText('No API keys')).toBeInTheDocument();
    await user.click(screen.getByRole('button', { name: 'Create API key' }));
    const dialog = await screen.findByRole('dialog', { name: 'Create API key' });
    await user.type(within(dialog).getByLabelText(/Name/), 'ci');
    await user.type(within(dialog).getByLabelText(/Expires in/), '30');
    await user.click(within(dialog).getByRole('button', { name: 'Create' }));
    expect(await screen.findByTestId('api-key-token')).toHaveTextContent('cwk_' + 'f'.repeat(64));
    expect(await screen.findByRole('table', { name: 'API keys' })).toHaveTextContent('cwk_0123abcd');
    expect(calls.find((c) => c.method === 'POST')!.body).toEqual({ name: 'ci', expires_in_days: 30 });
    await user.click(screen.getByRole('button', { name: 'Dismiss' }));
    expect(screen.queryByTestId('api-key-token')).not.toBeInTheDocument();
  });

  it('enrols in two-factor authentication with a QR code and shows backup codes once', async () => {
    let enabled = false;
    const codes = Array.from({ length: 10 }, (_, i) => `abcd${i}-efgh${i}`);
    const calls = mockFetch({
      'GET /api/v2/auth/me': () => meRoute(me({ two_factor_enabled: enabled })),
      'GET /api/v2/account/sessions': { body: { data: sessions } },
      'GET /api/v2/account/2fa': () => ({ body: { data: { enabled, pending: false, required: false } } }),
      'POST /api/v2/account/2fa/enroll': { body: { data: { secret: 'JBSWY3DPEHPK3PXP', otpauth_uri: 'otpauth://totp/certward:admin?secret=JBSWY3DPEHPK3PXP&issuer=certward' } } },
      'POST /api/v2/account/2fa/confirm': (c) => {
        if ((c.body as { code: string }).code !== '654321') return { status: 400, body: { title: 'Bad request', status: 400, code: 'bad_request', detail: 'the code is not valid', field: 'code' } };
        enabled = true;
        return { body: { data: { enabled: true, backup_codes: codes } } };
      },
    });
    const user = userEvent.setup();
    renderApp(<AccountPage />, { url: '/account/2fa' });
    await user.click(await screen.findByRole('button', { name: 'Set up two-factor authentication' }));
    expect(await screen.findByRole('img', { name: 'QR code of the authenticator secret' })).toBeInTheDocument();
    expect(screen.getByTestId('totp-secret')).toHaveTextContent('JBSWY3DPEHPK3PXP');
    await user.type(screen.getByLabelText('Code from the app'), '111111');
    await user.click(screen.getByRole('button', { name: 'Confirm' }));
    expect(await screen.findByText('the code is not valid')).toBeInTheDocument();
    await user.clear(screen.getByLabelText('Code from the app'));
    await user.type(screen.getByLabelText('Code from the app'), '654321');
    await user.click(screen.getByRole('button', { name: 'Confirm' }));
    const list = await screen.findByLabelText('Backup codes');
    expect(within(list).getAllByText(/^[a-z0-9]{5}-[a-z0-9]{5}$/)).toHaveLength(10);
    expect(await screen.findByText('Two-factor authentication is on.')).toBeInTheDocument();
    expect(calls.filter((c) => c.path === '/api/v2/account/2fa/confirm').map((c) => c.headers['x-csrf-token'])).toEqual(['1.' + 'c'.repeat(64), '1.' + 'c'.repeat(64)]);
    await user.click(screen.getByRole('button', { name: 'I have saved them' }));
    expect(screen.queryByLabelText('Backup codes')).not.toBeInTheDocument();
  });

  it('lists sessions and signs out another one', async () => {
    const calls = mockFetch({
      'GET /api/v2/auth/me': meRoute(me()),
      'GET /api/v2/account/sessions': { body: { data: sessions } },
      'DELETE /api/v2/account/sessions/2': { status: 204 },
    });
    const user = userEvent.setup();
    renderApp(<AccountPage />, { url: '/account/sessions' });
    const table = await screen.findByRole('table', { name: 'Active sessions' });
    await waitFor(() => expect(within(table).getByText('This session')).toBeInTheDocument());
    await user.click(within(table).getByRole('button', { name: /Sign out session from 10.1.1.1/ }));
    await waitFor(() => expect(calls.some((c) => c.method === 'DELETE' && c.path === '/api/v2/account/sessions/2')).toBe(true));
  });
});
