import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import type { AuditEntry } from '../../api/types';
import { me, meRoute, mockFetch, renderApp, VIEWER_PERMISSIONS, whenSignedIn } from '../../test/utils';
import AuditPage from './AuditPage';

const entry = (i: number): AuditEntry => ({
  id: i, seq: i, at: '2026-03-01T10:00:00.000000Z', user_id: 1, username: 'admin', action: 'user.create', resource_type: 'user', resource_id: String(i),
  outcome: 'success', client_addr: '127.0.0.1', request_id: 'b'.repeat(32), detail: { username: `u${i}` }, hash: 'c'.repeat(64),
});

describe('AuditPage', () => {
  it('filters through the URL, pages over the whole table and verifies the chain', async () => {
    const calls = mockFetch({
      'GET /api/v2/auth/me': meRoute(me()),
      'GET /api/v2/audit': (c) => {
        const page = Number(c.query.get('page'));
        return { body: { data: [entry(page * 100)], meta: { total: 120, page, per_page: 50 } } };
      },
      'GET /api/v2/audit/verify': { body: { data: { valid: false, checked: 41, first_bad_id: 42, reason: 'previous-hash link broken' } } },
    });
    const user = userEvent.setup();
    const { router } = renderApp(<AuditPage />, { url: '/audit?outcome=success' });
    expect(await screen.findByText('120 rows')).toBeInTheDocument();
    expect(calls.find((c) => c.path === '/api/v2/audit')!.query.get('outcome')).toBe('success');
    await user.type(screen.getByLabelText('User'), 'alice{Enter}');
    await waitFor(() => expect(router.state.location.search).toContain('user=alice'));
    await waitFor(() => expect(calls.filter((c) => c.path === '/api/v2/audit').at(-1)!.query.get('user')).toBe('alice'));
    await user.click(screen.getByRole('button', { name: 'Page 3' }));
    await waitFor(() => expect(calls.filter((c) => c.path === '/api/v2/audit').at(-1)!.query.get('page')).toBe('3'));
    expect(await screen.findByRole('button', { name: 'Details of audit event 300' })).toBeInTheDocument();
    await user.click(screen.getByRole('button', { name: 'Verify chain' }));
    const status = await screen.findByText('The audit chain is broken');
    expect(status.closest('[role="status"]')).toHaveTextContent('41 rows verified before row 42: previous-hash link broken.');
  });

  it('exports CSV with the current filters', async () => {
    const calls = mockFetch({
      'GET /api/v2/auth/me': meRoute(me()),
      'GET /api/v2/audit': { body: { data: [entry(1)], meta: { total: 1, page: 1, per_page: 50 } } },
      'GET /api/v2/audit/export': { body: '"id"\r\n"1"\r\n', headers: { 'Content-Type': 'text/csv', 'Content-Disposition': 'attachment; filename="audit.csv"' } },
    });
    const click = vi.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(() => {});
    const user = userEvent.setup();
    renderApp(<AuditPage />, { url: '/audit?action=user&page=2' });
    await user.click(await screen.findByRole('button', { name: 'Export CSV' }));
    await waitFor(() => expect(click).toHaveBeenCalled());
    const exp = calls.find((c) => c.path === '/api/v2/audit/export')!;
    expect(exp.query.get('format')).toBe('csv');
    expect(exp.query.get('action')).toBe('user');
    expect(exp.query.get('page')).toBeNull();
    expect((click.mock.contexts[0] as HTMLAnchorElement).download).toBe('audit.csv');
  });

  it('hides export without export:audit and shows details', async () => {
    mockFetch({
      'GET /api/v2/auth/me': meRoute(me({ permissions: VIEWER_PERMISSIONS })),
      'GET /api/v2/audit': { body: { data: [entry(7)], meta: { total: 1, page: 1, per_page: 50 } } },
    });
    const user = userEvent.setup();
    const { qc } = renderApp(<AuditPage />, { url: '/audit' });
    await whenSignedIn(qc);
    await user.click(await screen.findByRole('button', { name: 'Details of audit event 7' }));
    const dialog = await screen.findByRole('dialog');
    expect(within(dialog).getByLabelText('Event details')).toHaveTextContent('"username": "u7"');
    expect(screen.queryByRole('button', { name: 'Export CSV' })).not.toBeInTheDocument();
  });
});
