import { screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import type { SecuritySettings } from '../../api/types';
import { me, meRoute, mockFetch, problem, renderApp, VIEWER_PERMISSIONS, whenSignedIn } from '../../test/utils';
import SettingsPage from './SettingsPage';

const settings: SecuritySettings = {
  session_ttl: 28800,
  lockout: { threshold: 5, address_threshold: 20, window_seconds: 900, duration_seconds: 900 },
  rate_limits: { default: { per_minute: 120, burst: 20 }, login: { per_minute: 10, burst: 3 }, protocol: { per_minute: 300, burst: 50 }, revocation: { per_minute: 500, burst: 100 } },
  rate_limit_allowlist: ['10.0.0.0/8'],
  trusted_proxies: null,
  require_2fa_roles: ['admin'],
};
const common = {
  'GET /api/v2/settings/security': { body: { data: settings } },
  'GET /api/v2/system/audit/retention': { body: { data: { days: 365 } } },
  'GET /api/v2/users/password-policy': { body: { data: { min_length: 12, max_length: 128, require_upper: true, require_lower: false, require_digit: false, require_special: false, max_run: 3, blocklist: true } } },
  'GET /api/v2/roles': { body: { data: [] } },
};

describe('SettingsPage', () => {
  it('saves security settings and maps a field error', async () => {
    let n = 0;
    const calls = mockFetch({
      ...common,
      'GET /api/v2/auth/me': meRoute(me()),
      'PUT /api/v2/settings/security': (c) =>
        ++n === 1 ? problem(400, 'bad_request', 'threshold must be between 1 and 1000', { field: 'lockout.threshold' }) : { body: { data: { ...settings, ...(c.body as object) } } },
    });
    const user = userEvent.setup();
    renderApp(<SettingsPage />, { url: '/settings' });
    const threshold = await screen.findByLabelText('Failed logins per account');
    expect(threshold).toHaveValue('5');
    expect(screen.getByText(/an upper-case letter/)).toBeInTheDocument();
    await user.clear(threshold);
    await user.type(threshold, '7');
    await user.click(screen.getByLabelText('Use the list from the configuration file'));
    await user.type(screen.getByLabelText(/Proxies whose X-Forwarded-For/), '127.0.0.1');
    await user.click(screen.getByRole('button', { name: 'Save security settings' }));
    expect(await screen.findByText('threshold must be between 1 and 1000')).toBeInTheDocument();
    await user.click(screen.getByRole('button', { name: 'Save security settings' }));
    await waitFor(() => expect(calls.filter((c) => c.method === 'PUT').length).toBe(2));
    const body = calls.filter((c) => c.method === 'PUT')[1]!.body as Record<string, unknown>;
    expect(body.lockout).toEqual({ threshold: 7, address_threshold: 20, window_seconds: 900, duration_seconds: 900 });
    expect(body.trusted_proxies).toEqual(['127.0.0.1']);
    expect(body.rate_limit_allowlist).toEqual(['10.0.0.0/8']);
    expect(body.require_2fa_roles).toEqual(['admin']);
  });

  it('sets the audit retention', async () => {
    const calls = mockFetch({ ...common, 'GET /api/v2/auth/me': meRoute(me()), 'PUT /api/v2/system/audit/retention': { body: { data: { days: 90 } } } });
    const user = userEvent.setup();
    renderApp(<SettingsPage />, { url: '/settings' });
    const days = await screen.findByLabelText('Keep audit rows for (days)');
    await user.clear(days);
    await user.type(days, '90');
    await user.click(screen.getByRole('button', { name: 'Save retention' }));
    await waitFor(() => expect(calls.find((c) => c.method === 'PUT')?.body).toEqual({ days: 90 }));
  });

  it('is read only without write:settings', async () => {
    mockFetch({ ...common, 'GET /api/v2/auth/me': meRoute(me({ permissions: VIEWER_PERMISSIONS })) });
    const { qc } = renderApp(<SettingsPage />, { url: '/settings' });
    await whenSignedIn(qc);
    expect(await screen.findByLabelText('Failed logins per account')).toHaveAttribute('readonly');
    expect(screen.queryByRole('button', { name: 'Save security settings' })).not.toBeInTheDocument();
    expect(screen.queryByRole('button', { name: 'Save retention' })).not.toBeInTheDocument();
  });
});
