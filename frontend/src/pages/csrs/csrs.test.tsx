import { describe, expect, it, vi } from 'vitest';
import { configure, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { me, meRoute, mockFetch, problem, renderApp, VIEWER_PERMISSIONS } from '../../test/utils';
import CsrsSection from './index';
import type { Csr } from '../certificates/pki';

configure({ asyncUtilTimeout: 5000 });
// The machine running the suite may be slow; typing-heavy tests need room.
vi.setConfig({ testTimeout: 60000 });

const csr = (id: number, over: Partial<Csr> = {}): Csr => ({
  id,
  name: `req${id}`,
  status: 'pending',
  key_type: 'ec-p256',
  has_private_key: false,
  certificate_id: null,
  created_by: 'admin',
  created_at: '2026-01-01T00:00:00Z',
  decoded: { subject: { CN: `host${id}.example.com` }, subject_dn: `CN=host${id}.example.com`, sans: [{ type: 'dns', value: `host${id}.example.com` }], key: { type: 'ec', curve: 'P-256' } },
  pem: '-----BEGIN CERTIFICATE REQUEST-----\nMIIB\n-----END CERTIFICATE REQUEST-----\n',
  ...over,
});
const lookups = {
  'GET /api/v2/cas': { body: { data: [{ id: 2, name: 'Issuing', slug: 'issuing', type: 'root', parent_id: null, status: 'active', key_type: 'ec-p256', key_state: 'online', path_length: null }], meta: { total: 1, page: 1, per_page: 200 } } },
  'GET /api/v2/templates': { body: { data: [{ name: 'tls-server', builtin: true, max_validity_days: 398 }] } },
};

describe('CSR list', () => {
  it('filters by status from the URL and shows the decoded subject', async () => {
    const calls = mockFetch({ 'GET /api/v2/auth/me': meRoute(me()), 'GET /api/v2/csrs': { body: { data: [csr(1)], meta: { total: 1, page: 1, per_page: 50 } } } });
    renderApp(<CsrsSection />, { url: '/csrs?status=pending&q=host', path: '/csrs/*' });
    expect(await screen.findByText('CN=host1.example.com')).toBeInTheDocument();
    const c = calls.find((x) => x.path === '/api/v2/csrs')!;
    expect(c.query.get('status')).toBe('pending');
    expect(c.query.get('q')).toBe('host');
    expect(screen.getByRole('link', { name: 'Upload CSR' })).toBeInTheDocument();
  });

  it('shows a viewer no write buttons', async () => {
    mockFetch({ 'GET /api/v2/auth/me': meRoute(me({ permissions: VIEWER_PERMISSIONS })), 'GET /api/v2/csrs/1': { body: { data: csr(1) } } });
    renderApp(<CsrsSection />, { url: '/csrs/1', path: '/csrs/*' });
    await screen.findByRole('heading', { name: 'req1', level: 1 });
    for (const n of ['Sign', 'Reject', 'Delete']) expect(screen.queryByRole('button', { name: n })).not.toBeInTheDocument();
  });
});

describe('CSR upload and generate', () => {
  it('uploads a pasted CSR and shows a problem next to the CSR field', async () => {
    const calls = mockFetch({ 'GET /api/v2/auth/me': meRoute(me()), 'POST /api/v2/csrs': problem(400, 'validation_failed', 'not a PKCS#10 request', { field: 'csr' }) });
    renderApp(<CsrsSection />, { url: '/csrs/new', path: '/csrs/*' });
    await userEvent.type(await screen.findByRole('textbox', { name: 'CSR (PEM or base64 DER)' }), 'garbage');
    await userEvent.click(screen.getByRole('button', { name: 'Upload' }));
    expect(await screen.findByText('not a PKCS#10 request')).toBeInTheDocument();
    expect(screen.getByRole('textbox', { name: 'CSR (PEM or base64 DER)' })).toHaveAttribute('aria-invalid', 'true');
    expect(calls.find((c) => c.method === 'POST')!.body).toEqual({ csr: 'garbage' });
  });

  it('generates a key and CSR with typed names', async () => {
    const calls = mockFetch({ 'GET /api/v2/auth/me': meRoute(me()), 'POST /api/v2/csrs/generate': { status: 201, body: { data: csr(4, { has_private_key: true }) } }, 'GET /api/v2/csrs/4': { body: { data: csr(4) } } });
    renderApp(<CsrsSection />, { url: '/csrs/generate', path: '/csrs/*' });
    await userEvent.type(await screen.findByRole('textbox', { name: 'Common name (CN)' }), 'svc');
    await userEvent.click(screen.getByRole('button', { name: 'Add name' }));
    await userEvent.click(screen.getByRole('textbox', { name: 'Type of name 1' }));
    await userEvent.click(await screen.findByRole('option', { name: 'IP address', hidden: true }));
    await userEvent.type(screen.getByRole('textbox', { name: 'Name 1' }), '10.1.2.300');
    await userEvent.click(screen.getByRole('button', { name: 'Generate' }));
    expect(await screen.findByText('Not a valid IPv4 or IPv6 address')).toBeInTheDocument();
    expect(calls.some((c) => c.method === 'POST')).toBe(false);
    await userEvent.clear(screen.getByRole('textbox', { name: 'Name 1' }));
    await userEvent.type(screen.getByRole('textbox', { name: 'Name 1' }), '10.1.2.3');
    await userEvent.click(screen.getByRole('button', { name: 'Generate' }));
    await screen.findByRole('heading', { name: 'req4', level: 1 });
    expect(calls.find((c) => c.method === 'POST')!.body).toEqual({ key: { type: 'ec', curve: 'P-256' }, subject: { CN: 'svc' }, sans: [{ type: 'ip', value: '10.1.2.3' }] });
  });
});

describe('CSR detail', () => {
  it('signs with a CA and a template', async () => {
    const calls = mockFetch({
      'GET /api/v2/auth/me': meRoute(me()),
      ...lookups,
      'GET /api/v2/csrs/1': { body: { data: csr(1) } },
      'POST /api/v2/csrs/1/sign': { status: 201, body: { data: { id: 77 } } },
    });
    const { router } = renderApp(
      [
        { path: '/csrs/*', element: <CsrsSection /> },
        { path: '/certificates/:id', element: <div>certificate page</div> },
      ],
      { url: '/csrs/1' },
    );
    expect(await screen.findByText('dns:host1.example.com')).toBeInTheDocument();
    await userEvent.click(screen.getByRole('button', { name: 'Sign' }));
    const dlg = await screen.findByRole('dialog', { name: 'Sign request' });
    await userEvent.click(within(dlg).getByRole('textbox', { name: 'CA' }));
    await userEvent.click(await screen.findByRole('option', { name: 'Issuing', hidden: true }));
    await userEvent.click(within(dlg).getByRole('textbox', { name: 'Template' }));
    await userEvent.click(await screen.findByRole('option', { name: 'tls-server', hidden: true }));
    const vd = within(dlg).getByRole('textbox', { name: 'Validity (days)' });
    expect(vd).toHaveValue('365');
    await userEvent.clear(vd);
    await userEvent.type(vd, '999');
    await userEvent.click(within(dlg).getByRole('button', { name: 'Sign' }));
    expect(await within(dlg).findByText('Between 1 and 398 days')).toBeInTheDocument();
    await userEvent.clear(vd);
    await userEvent.type(vd, '90');
    await userEvent.click(within(dlg).getByRole('button', { name: 'Sign' }));
    await waitFor(() => expect(router.state.location.pathname).toBe('/certificates/77'));
    expect(calls.find((c) => c.method === 'POST')!.body).toEqual({ ca_id: 2, template: 'tls-server', validity_days: 90 });
  });

  it('rejects with a reason', async () => {
    const calls = mockFetch({
      'GET /api/v2/auth/me': meRoute(me()),
      'GET /api/v2/csrs/1': { body: { data: csr(1) } },
      'POST /api/v2/csrs/1/reject': { body: { data: csr(1, { status: 'rejected', reject_reason: 'wrong org' }) } },
    });
    renderApp(<CsrsSection />, { url: '/csrs/1', path: '/csrs/*' });
    await userEvent.click(await screen.findByRole('button', { name: 'Reject' }));
    const dlg = await screen.findByRole('dialog', { name: 'Reject request' });
    await userEvent.type(within(dlg).getByRole('textbox', { name: 'Reason (optional)' }), 'wrong org');
    await userEvent.click(within(dlg).getByRole('button', { name: 'Reject' }));
    expect(await screen.findByText('wrong org')).toBeInTheDocument();
    expect(calls.find((c) => c.method === 'POST')!.body).toEqual({ reason: 'wrong org' });
    expect(screen.queryByRole('button', { name: 'Sign' })).not.toBeInTheDocument();
  });
});
