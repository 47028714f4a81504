import { describe, expect, it, vi } from 'vitest';
import { configure, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { me, meRoute, mockFetch, problem, renderApp, VIEWER_PERMISSIONS, ALL_PERMISSIONS } from '../../test/utils';
import CertificatesSection from './index';
import { COLUMNS_KEY } from './CertificatesListPage';
import { sanError } from './pki';
import type { Certificate } from './pki';

const cert = (id: number, over: Partial<Certificate> = {}): Certificate => ({
  id,
  ca_id: 1,
  serial: `0a${id}`,
  status: 'valid',
  template: 'tls-server',
  key_type: 'ec-p256',
  not_before: '2026-01-01T00:00:00Z',
  not_after: '2099-01-01T00:00:00Z',
  common_name: `host${id}.example.com`,
  subject_dn: `CN=host${id}.example.com`,
  has_private_key: true,
  pem: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n',
  ...over,
});

const cas = { body: { data: [{ id: 1, name: 'Issuing CA', slug: 'issuing', type: 'root', parent_id: null, status: 'active', key_type: 'ec-p256', key_state: 'online', path_length: null }], meta: { total: 1, page: 1, per_page: 200 } } };
const templates = {
  body: {
    data: [
      { name: 'tls-server', description: 'TLS server', builtin: true, max_validity_days: 398, allowed_san_types: ['dns', 'ip'], key_types: [], is_ca: false },
      { name: 'sub-ca', builtin: true, max_validity_days: 3650, is_ca: true },
    ],
  },
};

function base(user = me(), extra: Record<string, Parameters<typeof mockFetch>[0][string]> = {}) {
  return mockFetch({ 'GET /api/v2/auth/me': meRoute(user), 'GET /api/v2/cas': cas, 'GET /api/v2/templates': templates, ...extra });
}

configure({ asyncUtilTimeout: 5000 });
// The machine running the suite may be slow; typing-heavy tests need room.
vi.setConfig({ testTimeout: 60000 });

describe('SAN validation', () => {
  it('checks each type', () => {
    expect(sanError('dns', 'www.example.com')).toBeNull();
    expect(sanError('dns', '*.example.com')).toBeNull();
    expect(sanError('dns', 'bad_host!')).not.toBeNull();
    expect(sanError('ip', '192.0.2.1')).toBeNull();
    expect(sanError('ip', '2001:db8::1')).toBeNull();
    expect(sanError('ip', '256.1.1.1')).not.toBeNull();
    expect(sanError('ip', '1::2::3')).not.toBeNull();
    expect(sanError('email', 'a@example.com')).toBeNull();
    expect(sanError('email', 'a@')).not.toBeNull();
    expect(sanError('uri', 'https://example.com/x')).toBeNull();
    expect(sanError('uri', 'no scheme')).not.toBeNull();
    expect(sanError('upn', 'user@corp.example')).toBeNull();
  });
});

describe('certificates list', () => {
  it('sends the URL filters, sort and page to the API and shows rows', async () => {
    const calls = base(me(), { 'GET /api/v2/certificates': { body: { data: [cert(1), cert(2, { status: 'revoked' })], meta: { total: 120, page: 2, per_page: 50 } } } });
    renderApp(<CertificatesSection />, { url: '/certificates?status=revoked&ca=1&sort=not_after&page=2&q=host', path: '/certificates/*' });
    await screen.findAllByText('Issuing CA');
    expect(await screen.findByRole('link', { name: 'host1.example.com' })).toBeInTheDocument();
    const c = calls.find((x) => x.path === '/api/v2/certificates')!;
    expect(c.query.get('status')).toBe('revoked');
    expect(c.query.get('ca')).toBe('1');
    expect(c.query.get('sort')).toBe('not_after');
    expect(c.query.get('page')).toBe('2');
    expect(c.query.get('q')).toBe('host');
    expect(screen.getByText('120 rows')).toBeInTheDocument();
  });

  it('turns the expiry window into expires_before', async () => {
    const calls = base(me(), { 'GET /api/v2/certificates': { body: { data: [], meta: { total: 0, page: 1, per_page: 50 } } } });
    renderApp(<CertificatesSection />, { url: '/certificates?expires_within=30', path: '/certificates/*' });
    expect(await screen.findByText('No certificates')).toBeInTheDocument();
    const c = calls.find((x) => x.path === '/api/v2/certificates')!;
    const want = new Date(Date.now() + 30 * 86400_000).toISOString().slice(0, 10);
    expect(c.query.get('expires_before')).toBe(want);
    expect(c.query.has('expires_within')).toBe(false);
  });

  it('remembers the chosen columns', async () => {
    base(me(), { 'GET /api/v2/certificates': { body: { data: [cert(1)], meta: { total: 1, page: 1, per_page: 50 } } } });
    renderApp(<CertificatesSection />, { url: '/certificates', path: '/certificates/*' });
    const table = await screen.findByRole('table', { name: 'Certificates' });
    expect(within(table).getByText('Serial')).toBeInTheDocument();
    await userEvent.click(screen.getByRole('button', { name: 'Columns' }));
    await userEvent.click(await screen.findByRole('checkbox', { name: 'Serial', hidden: true }));
    await waitFor(() => expect(within(table).queryByText('Serial')).not.toBeInTheDocument());
    expect(JSON.parse(localStorage.getItem(COLUMNS_KEY)!)).not.toContain('serial');
  });

  it('bulk revokes the selected ids with a reason', async () => {
    const calls = base(me(), {
      'GET /api/v2/certificates': { body: { data: [cert(1), cert(2), cert(3)], meta: { total: 3, page: 1, per_page: 50 } } },
      'POST /api/v2/certificates/bulk/revoke': { body: { data: { results: [{ id: 1, status: 'ok' }, { id: 3, status: 'error', code: 'conflict', detail: 'already revoked' }] } } },
    });
    renderApp(<CertificatesSection />, { url: '/certificates', path: '/certificates/*' });
    await screen.findAllByText('Issuing CA');
    const first = await screen.findByRole('checkbox', { name: 'Select host1.example.com' });
    await userEvent.click(first);
    await screen.findByText('1 selected');
    // Selecting re-renders the rows without remounting them: the box keeps the focus.
    expect(first.isConnected).toBe(true);
    expect(first).toBeChecked();
    expect(first).toHaveFocus();
    await userEvent.click(screen.getByRole('checkbox', { name: 'Select host3.example.com' }));
    await userEvent.click(screen.getByRole('button', { name: 'Revoke selected' }));
    const dlg = await screen.findByRole('dialog');
    await userEvent.click(within(dlg).getByRole('textbox', { name: 'Reason' }));
    await userEvent.click(await screen.findByRole('option', { name: 'Superseded', hidden: true }));
    await userEvent.click(within(dlg).getByRole('button', { name: 'Revoke' }));
    await screen.findByText(/already revoked/);
    const post = calls.find((x) => x.method === 'POST')!;
    expect(post.body).toEqual({ ids: [1, 3], reason: 'superseded' });
    expect(post.headers['x-csrf-token']).toBeTruthy();
  });

  it('shows a viewer no write buttons', async () => {
    base(me({ role: 'viewer', permissions: VIEWER_PERMISSIONS }), { 'GET /api/v2/certificates': { body: { data: [cert(1)], meta: { total: 1, page: 1, per_page: 50 } } } });
    renderApp(<CertificatesSection />, { url: '/certificates', path: '/certificates/*' });
    await screen.findByRole('link', { name: 'host1.example.com' });
    expect(screen.queryByRole('link', { name: 'Issue certificate' })).not.toBeInTheDocument();
    expect(screen.queryByRole('checkbox', { name: /Select/ })).not.toBeInTheDocument();
  });
});

describe('issue wizard', () => {
  it('blocks a bad SAN, then issues with the typed body', { timeout: 60000 }, async () => {
    const calls = base(me(), { 'POST /api/v2/certificates': { status: 201, body: { data: cert(9) } }, 'GET /api/v2/certificates/9': { body: { data: cert(9) } } });
    renderApp(<CertificatesSection />, { url: '/certificates/new', path: '/certificates/*' });
    await screen.findByRole('heading', { name: 'Issue certificate', level: 1 });
    await userEvent.click(screen.getByRole('textbox', { name: 'Issuing CA' }));
    await userEvent.click(await screen.findByRole('option', { name: 'Issuing CA', hidden: true }));
    await userEvent.click(screen.getByRole('textbox', { name: 'Template' }));
    await userEvent.click(await screen.findByRole('option', { name: /tls-server/, hidden: true }));
    expect(screen.queryByRole('option', { name: /sub-ca/, hidden: true })).not.toBeInTheDocument();
    await userEvent.click(screen.getByRole('button', { name: 'Next' }));
    await userEvent.type(await screen.findByRole('textbox', { name: 'Common name (CN)' }), 'www.example.com');
    await userEvent.type(screen.getByRole('textbox', { name: 'Name 1' }), 'bad name!');
    expect(screen.getByText('Not a valid DNS name')).toBeInTheDocument();
    await userEvent.click(screen.getByRole('button', { name: 'Next' }));
    expect(screen.getByRole('textbox', { name: 'Name 1' })).toBeInTheDocument();
    await userEvent.clear(screen.getByRole('textbox', { name: 'Name 1' }));
    await userEvent.type(screen.getByRole('textbox', { name: 'Name 1' }), 'www.example.com');
    await userEvent.click(screen.getByRole('button', { name: 'Add name' }));
    await userEvent.type(screen.getByRole('textbox', { name: 'Name 2' }), 'www2.example.com');
    await userEvent.click(screen.getByRole('button', { name: 'Next' }));
    await screen.findByRole('textbox', { name: 'Key type' });
    await userEvent.click(screen.getByRole('button', { name: 'Next' }));
    const validity = await screen.findByRole('textbox', { name: 'Validity (days)' });
    await userEvent.clear(validity);
    await userEvent.type(validity, '90');
    await userEvent.click(screen.getByRole('button', { name: 'Issue' }));
    await waitFor(() => expect(calls.some((c) => c.method === 'POST')).toBe(true));
    expect(calls.find((c) => c.method === 'POST')!.body).toEqual({
      ca_id: 1,
      template: 'tls-server',
      validity_days: 90,
      subject: { CN: 'www.example.com' },
      sans: [
        { type: 'dns', value: 'www.example.com' },
        { type: 'dns', value: 'www2.example.com' },
      ],
      key: { type: 'ec', curve: 'P-256' },
    });
  });

  it('shows a problem naming a SAN next to the names, on their step', { timeout: 60000 }, async () => {
    base(me(), { 'POST /api/v2/certificates': problem(400, 'validation_failed', 'sans[0]: the template does not allow this name', { field: 'sans[0].value' }) });
    renderApp(<CertificatesSection />, { url: '/certificates/new', path: '/certificates/*' });
    await userEvent.click(await screen.findByRole('textbox', { name: 'Issuing CA' }));
    await userEvent.click(await screen.findByRole('option', { name: 'Issuing CA', hidden: true }));
    await userEvent.click(screen.getByRole('textbox', { name: 'Template' }));
    await userEvent.click(await screen.findByRole('option', { name: /tls-server/, hidden: true }));
    await userEvent.click(screen.getByRole('button', { name: 'Next' }));
    await userEvent.type(await screen.findByRole('textbox', { name: 'Name 1' }), 'a.example.com');
    await userEvent.click(screen.getByRole('button', { name: 'Next' }));
    await userEvent.click(await screen.findByRole('button', { name: 'Next' }));
    await userEvent.click(await screen.findByRole('button', { name: 'Issue' }));
    expect(await screen.findByText('sans[0]: the template does not allow this name')).toBeInTheDocument();
    expect(screen.getByRole('textbox', { name: 'Name 1' })).toBeInTheDocument();
  });
});

describe('certificate detail', () => {
  it('revokes with a reason and an invalidity date', async () => {
    const calls = base(me(), {
      'GET /api/v2/certificates/5': { body: { data: cert(5) } },
      'POST /api/v2/certificates/5/revoke': { body: { data: cert(5, { status: 'revoked', revocation_reason: 'keyCompromise', revoked_at: '2026-02-01T00:00:00Z' }) } },
    });
    renderApp(<CertificatesSection />, { url: '/certificates/5', path: '/certificates/*' });
    await userEvent.click(await screen.findByRole('button', { name: 'Revoke' }));
    const dlg = await screen.findByRole('dialog', { name: 'Revoke certificate' });
    await userEvent.click(within(dlg).getByRole('textbox', { name: 'Reason' }));
    await userEvent.click(await screen.findByRole('option', { name: 'Key compromise', hidden: true }));
    await userEvent.type(within(dlg).getByLabelText('Invalidity date (optional)'), '2026-01-15T10:00');
    await userEvent.click(within(dlg).getByRole('button', { name: 'Revoke' }));
    expect(await screen.findByText(/reason keyCompromise/)).toBeInTheDocument();
    const post = calls.find((c) => c.method === 'POST')!;
    expect(post.body).toMatchObject({ reason: 'keyCompromise' });
    expect((post.body as { invalidity_date: string }).invalidity_date).toMatch(/^2026-01-1[45]T\d\d:00:00Z$/);
  });

  it('offers key exports only with export:private_keys', async () => {
    base(me({ permissions: ALL_PERMISSIONS.filter((p) => p !== 'export:private_keys') }), { 'GET /api/v2/certificates/5': { body: { data: cert(5) } } });
    renderApp(<CertificatesSection />, { url: '/certificates/5', path: '/certificates/*' });
    await userEvent.click(await screen.findByRole('button', { name: 'Export' }));
    const dlg = await screen.findByRole('dialog', { name: 'Export certificate' });
    expect(within(dlg).getByRole('radio', { name: 'PKCS#7 (P7B)' })).toBeInTheDocument();
    expect(within(dlg).queryByRole('radio', { name: /PKCS#12/ })).not.toBeInTheDocument();
  });

  it('asks for a password before a PKCS#12 export', async () => {
    const calls = base(me(), { 'GET /api/v2/certificates/5': { body: { data: cert(5) } }, 'POST /api/v2/certificates/5/export': { body: 'binary' } });
    renderApp(<CertificatesSection />, { url: '/certificates/5', path: '/certificates/*' });
    await userEvent.click(await screen.findByRole('button', { name: 'Export' }));
    const dlg = await screen.findByRole('dialog', { name: 'Export certificate' });
    await userEvent.click(within(dlg).getByRole('radio', { name: 'PKCS#12 with private key' }));
    await userEvent.click(within(dlg).getByRole('button', { name: 'Download' }));
    expect(await within(dlg).findByText('At least 8 characters')).toBeInTheDocument();
    await userEvent.type(within(dlg).getByLabelText(/Password for the file/), 'correct horse');
    await userEvent.click(within(dlg).getByRole('button', { name: 'Download' }));
    await waitFor(() => expect(calls.some((c) => c.method === 'POST')).toBe(true));
    expect(calls.find((c) => c.method === 'POST')!.body).toEqual({ format: 'p12', password: 'correct horse' });
  });

  it('renews a certificate whose key is not held here with a new CSR', async () => {
    const calls = base(me(), {
      'GET /api/v2/certificates/5': { body: { data: cert(5, { has_private_key: false }) } },
      'POST /api/v2/certificates/5/renew': { status: 201, body: { data: cert(6, { renewed_from: 5 }) } },
      'GET /api/v2/certificates/6': { body: { data: cert(6, { renewed_from: 5 }) } },
    });
    renderApp(<CertificatesSection />, { url: '/certificates/5', path: '/certificates/*' });
    await userEvent.click(await screen.findByRole('button', { name: 'Renew' }));
    const dlg = await screen.findByRole('dialog', { name: 'Renew certificate' });
    await userEvent.type(within(dlg).getByRole('textbox', { name: 'New CSR (PEM)' }), 'CSRDATA');
    await userEvent.click(within(dlg).getByRole('button', { name: 'Renew' }));
    await screen.findByRole('heading', { name: 'host6.example.com', level: 1 });
    expect(calls.find((c) => c.method === 'POST')!.body).toEqual({ csr: 'CSRDATA' });
  });
});
