import { screen, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { me, meRoute, mockFetch, renderApp } from '../../test/utils';
import DashboardPage from './DashboardPage';

describe('DashboardPage', () => {
  it('shows counts, CA health with CRL next update and recent audit events', async () => {
    mockFetch({
      'GET /api/v2/auth/me': meRoute(me()),
      'GET /api/v2/dashboard/stats': {
        body: { data: { certificates: { total: 12, valid: 8, revoked: 3, expired: 1, expiring_7d: 2, expiring_30d: 5 }, cas: { total: 2, active: 1 }, issued_per_day: Array.from({ length: 30 }, (_, i) => ({ date: `2026-03-${String(i + 1).padStart(2, '0')}`, count: i % 3 })) } },
      },
      'GET /api/v2/cas': { body: { data: [
        { id: 1, name: 'Root CA', slug: 'root-ca', status: 'active', key_state: 'offline', not_after: '2036-01-01T00:00:00Z' },
        { id: 2, name: 'Issuing CA', slug: 'issuing-ca', status: 'active', key_state: 'online', not_after: '2031-01-01T00:00:00Z' },
      ], meta: { total: 2, page: 1, per_page: 20 } } },
      'GET /api/v2/cas/1/crl': { body: { data: { stale: false, full: { number: 3, this_update: '2026-03-01T00:00:00Z', next_update: '2000-01-01T00:00:00Z' } } } },
      'GET /api/v2/cas/2/crl': { body: { data: { stale: true, full: null } } },
      'GET /api/v2/audit': { body: { data: [{ id: 5, seq: 5, at: '2026-03-01T10:00:00Z', user_id: 1, username: 'admin', action: 'ca.create', resource_type: 'ca', resource_id: '1', outcome: 'success', client_addr: '', request_id: '', detail: {}, hash: '' }], meta: { total: 1, page: 1, per_page: 10 } } },
    });
    renderApp(<DashboardPage />, { url: '/' });
    expect(await screen.findByRole('link', { name: 'Expiring in 7 days: 2' })).toHaveAttribute('href', expect.stringContaining('expires_before='));
    expect(screen.getByRole('link', { name: 'Revoked: 3' })).toHaveAttribute('href', '/certificates?status=revoked');
    const health = await screen.findByRole('table', { name: 'CA health' });
    expect(await within(health).findByText('overdue')).toBeInTheDocument();
    expect(within(health).getByText('key offline')).toBeInTheDocument();
    expect(await within(health).findByText('no CRL yet')).toBeInTheDocument();
    expect(await screen.findByText('ca.create')).toBeInTheDocument();
    expect(screen.getByText('1 of 2 active')).toBeInTheDocument();
  });
});
