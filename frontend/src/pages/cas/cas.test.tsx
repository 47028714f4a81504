import { describe, expect, it, vi } from 'vitest';
import { configure, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { me, meRoute, mockFetch, problem, renderApp, VIEWER_PERMISSIONS } from '../../test/utils';
import CasSection from './index';
import { buildTree } from './CasListPage';
import type { Ca } from '../certificates/pki';

configure({ asyncUtilTimeout: 5000 });
// The machine running the suite may be slow; typing-heavy tests need room.
vi.setConfig({ testTimeout: 60000 });

const ca = (id: number, over: Partial<Ca> = {}): Ca => ({
  id,
  name: `CA ${id}`,
  slug: `ca-${id}`,
  type: 'root',
  parent_id: null,
  status: 'active',
  key_type: 'ec-p384',
  key_state: 'online',
  path_length: null,
  children: 0,
  not_after: '2036-01-01T00:00:00Z',
  subject: { CN: `CA ${id}` },
  ...over,
});

const list = (data: Ca[]) => ({ body: { data, meta: { total: data.length, page: 1, per_page: 200 } } });

describe('CA hierarchy', () => {
  it('nests children under parents', () => {
    const t = buildTree([ca(3, { parent_id: 2, type: 'intermediate' }), ca(1), ca(2, { parent_id: 1, type: 'intermediate' }), ca(4, { parent_id: 99 })]);
    expect(t.map((n) => n.ca.id)).toEqual([1, 4]);
    expect(t[0]!.children[0]!.ca.id).toBe(2);
    expect(t[0]!.children[0]!.children[0]!.ca.id).toBe(3);
  });

  it('shows the tree view from the URL', async () => {
    mockFetch({ 'GET /api/v2/auth/me': meRoute(me()), 'GET /api/v2/cas': list([ca(1), ca(2, { parent_id: 1, name: 'Issuing' })]) });
    renderApp(<CasSection />, { url: '/cas?view=tree', path: '/cas/*' });
    const tree = await screen.findByRole('tree', { name: 'CA hierarchy' });
    const root = within(tree).getAllByRole('treeitem')[0]!;
    expect(within(root).getByRole('link', { name: 'Issuing' })).toBeInTheDocument();
    expect(within(root).getByRole('group')).toBeInTheDocument();
  });
});

describe('CA list', () => {
  it('sends search, status, sort and page from the URL', async () => {
    const calls = mockFetch({ 'GET /api/v2/auth/me': meRoute(me()), 'GET /api/v2/cas': { body: { data: [ca(1)], meta: { total: 60, page: 2, per_page: 25 } } } });
    renderApp(<CasSection />, { url: '/cas?q=root&status=active&sort=-id&page=2&per_page=25', path: '/cas/*' });
    await screen.findByText('60 rows');
    const c = calls.find((x) => x.path === '/api/v2/cas')!;
    expect(Object.fromEntries(c.query)).toEqual({ q: 'root', status: 'active', sort: '-id', page: '2', per_page: '25' });
    expect(screen.getByRole('link', { name: 'Create CA' })).toBeInTheDocument();
  });

  it('shows a viewer no write buttons', async () => {
    mockFetch({ 'GET /api/v2/auth/me': meRoute(me({ role: 'viewer', permissions: VIEWER_PERMISSIONS })), 'GET /api/v2/cas': list([ca(1)]), 'GET /api/v2/cas/1': { body: { data: ca(1) } } });
    const { router } = renderApp(<CasSection />, { url: '/cas', path: '/cas/*' });
    await screen.findByRole('link', { name: 'CA 1' });
    expect(screen.queryByRole('link', { name: 'Create CA' })).not.toBeInTheDocument();
    expect(screen.queryByRole('link', { name: 'Import CA' })).not.toBeInTheDocument();
    await router.navigate('/cas/1');
    await screen.findByRole('heading', { name: 'CA 1', level: 1 });
    expect(screen.getByRole('button', { name: 'Export' })).toBeInTheDocument();
    for (const n of ['Take offline', 'Retire', 'Restore']) expect(screen.queryByRole('button', { name: n })).not.toBeInTheDocument();
  });
});

describe('create CA', () => {
  it('creates an intermediate with name constraints and shows a subject problem next to its field', { timeout: 60000 }, async () => {
    let n = 0;
    const calls = mockFetch({
      'GET /api/v2/auth/me': meRoute(me()),
      'GET /api/v2/cas': list([ca(1, { name: 'Root' })]),
      'POST /api/v2/cas': () => (++n === 1 ? problem(400, 'validation_failed', 'C must be two letters', { field: 'subject.C' }) : { status: 201, body: { data: ca(7, { name: 'Issuing' }) } }),
      'GET /api/v2/cas/7': { body: { data: ca(7, { name: 'Issuing' }) } },
    });
    renderApp(<CasSection />, { url: '/cas/new', path: '/cas/*' });
    await userEvent.type(await screen.findByRole('textbox', { name: 'Name' }), 'Issuing');
    await userEvent.click(screen.getByRole('radio', { name: 'Intermediate' }));
    await userEvent.click(await screen.findByRole('textbox', { name: 'Parent CA' }));
    await userEvent.click(await screen.findByRole('option', { name: 'Root', hidden: true }));
    await userEvent.type(screen.getByRole('textbox', { name: 'Common name (CN)' }), 'Issuing CA');
    await userEvent.type(screen.getByRole('textbox', { name: 'Country (C)' }), 'X1');
    await userEvent.type(screen.getByRole('textbox', { name: 'Permitted DNS' }), 'example.com{enter}example.org');
    await userEvent.type(screen.getByRole('textbox', { name: 'Excluded IP ranges' }), '10.0.0.0/8');
    await userEvent.clear(screen.getByRole('textbox', { name: 'Validity (days)' }));
    await userEvent.type(screen.getByRole('textbox', { name: 'Validity (days)' }), '1825');
    await userEvent.type(screen.getByRole('textbox', { name: 'Path length (optional)' }), '0');
    await userEvent.click(screen.getByRole('button', { name: 'Create CA' }));
    expect(await screen.findByText('C must be two letters')).toBeInTheDocument();
    expect(screen.getByRole('textbox', { name: 'Country (C)' })).toHaveAttribute('aria-invalid', 'true');
    expect(calls.find((c) => c.method === 'POST')!.body).toEqual({
      name: 'Issuing',
      type: 'intermediate',
      parent_id: 1,
      subject: { CN: 'Issuing CA', C: 'X1' },
      key: { type: 'ec', curve: 'P-384' },
      validity_days: 1825,
      path_length: 0,
      name_constraints: { permitted: { dns: ['example.com', 'example.org'] }, excluded: { ip: ['10.0.0.0/8'] } },
    });
    await userEvent.clear(screen.getByRole('textbox', { name: 'Country (C)' }));
    await userEvent.type(screen.getByRole('textbox', { name: 'Country (C)' }), 'DE');
    await userEvent.click(screen.getByRole('button', { name: 'Create CA' }));
    expect(await screen.findByRole('heading', { name: 'Issuing', level: 1 })).toBeInTheDocument();
  });
});

describe('import CA', () => {
  it('sends a binary file as base64 with its password', async () => {
    const calls = mockFetch({ 'GET /api/v2/auth/me': meRoute(me()), 'GET /api/v2/cas': list([]), 'POST /api/v2/cas/import': { status: 201, body: { data: ca(3) } }, 'GET /api/v2/cas/3': { body: { data: ca(3) } } });
    renderApp(<CasSection />, { url: '/cas/import', path: '/cas/*' });
    await userEvent.type(await screen.findByRole('textbox', { name: 'Name' }), 'Imported');
    const bytes = new Uint8Array([0x30, 0x82, 0x01, 0x00, 0xff]);
    await userEvent.upload(screen.getByLabelText('Certificate file'), new File([bytes], 'ca.p12', { type: 'application/x-pkcs12' }));
    await screen.findByText(/ca\.p12 \(sent as base64\)/);
    await userEvent.type(screen.getByLabelText('Password (PKCS#12 or encrypted key)'), 'secret');
    await userEvent.click(screen.getByRole('button', { name: 'Import' }));
    await waitFor(() => expect(calls.some((c) => c.method === 'POST')).toBe(true));
    expect(calls.find((c) => c.method === 'POST')!.body).toEqual({ name: 'Imported', certificate: btoa(String.fromCharCode(...bytes)), password: 'secret' });
  });
});

describe('CA detail', () => {
  it('takes a CA offline as a file and shows the key once', async () => {
    const calls = mockFetch({
      'GET /api/v2/auth/me': meRoute(me()),
      'GET /api/v2/cas': list([]),
      'GET /api/v2/cas/1': { body: { data: ca(1) } },
      'POST /api/v2/cas/1/offline': { body: { data: { ...ca(1, { key_state: 'file_exported' }), key_pem: '-----BEGIN ENCRYPTED PRIVATE KEY-----\nabc\n-----END ENCRYPTED PRIVATE KEY-----\n' } } },
    });
    renderApp(<CasSection />, { url: '/cas/1', path: '/cas/*' });
    await userEvent.click(await screen.findByRole('button', { name: 'Take offline' }));
    const dlg = await screen.findByRole('dialog', { name: 'Take CA offline' });
    await userEvent.click(within(dlg).getByRole('radio', { name: /Exported as an encrypted file/ }));
    await userEvent.type(within(dlg).getByLabelText('Password'), 'long passphrase 1');
    await userEvent.type(within(dlg).getByLabelText('Repeat password'), 'long passphrase 1');
    await userEvent.click(within(dlg).getByRole('button', { name: 'Take offline' }));
    expect(await within(dlg).findByText(/BEGIN ENCRYPTED PRIVATE KEY/)).toBeInTheDocument();
    expect(calls.find((c) => c.method === 'POST')!.body).toEqual({ mode: 'file_exported', password: 'long passphrase 1' });
    await userEvent.click(within(dlg).getByRole('button', { name: 'I have saved the key' }));
    await waitFor(() => expect(screen.queryByText(/BEGIN ENCRYPTED PRIVATE KEY/)).not.toBeInTheDocument());
    expect(await screen.findByRole('button', { name: 'Restore' })).toBeInTheDocument();
  });

  it('shows the CRL state and regenerates it', async () => {
    const crl = { settings: { crl_days: 7, delta_hours: 24, ocsp_hours: 24, ocsp_signer: 'delegated' }, stale: false, crl_url: 'http://x/cdp/ca-1.crl', full: { number: 4, this_update: '2026-01-01T00:00:00Z', next_update: '2026-01-08T00:00:00Z', entries: 2, source: 'generated' }, delta: null };
    const calls = mockFetch({
      'GET /api/v2/auth/me': meRoute(me()),
      'GET /api/v2/cas': list([]),
      'GET /api/v2/cas/1': { body: { data: ca(1) } },
      'GET /api/v2/cas/1/crl': { body: { data: crl } },
      'POST /api/v2/cas/1/crl': { body: { data: { ...crl, full: { ...crl.full, number: 5 } } } },
    });
    renderApp(<CasSection />, { url: '/cas/1', path: '/cas/*' });
    await userEvent.click(await screen.findByRole('tab', { name: 'CRL' }));
    const t = await screen.findByRole('table', { name: 'CRLs' });
    expect(within(t).getByText('4')).toBeInTheDocument();
    await userEvent.click(screen.getByRole('button', { name: 'Regenerate CRL' }));
    expect(await within(t).findByText('5')).toBeInTheDocument();
    expect(calls.find((c) => c.method === 'POST')!.body).toEqual({});
  });

  it('edits the revocation settings', async () => {
    const crl = { settings: { crl_days: 7, delta_hours: 24, ocsp_hours: 24, ocsp_signer: 'delegated' }, stale: false, full: null, delta: null };
    const calls = mockFetch({
      'GET /api/v2/auth/me': meRoute(me()),
      'GET /api/v2/cas': list([]),
      'GET /api/v2/cas/1': { body: { data: ca(1) } },
      'GET /api/v2/cas/1/crl': { body: { data: crl } },
      'PUT /api/v2/cas/1/crl/settings': problem(400, 'validation_failed', 'ocsp_hours must not exceed crl_days', { field: 'ocsp_hours' }),
    });
    renderApp(<CasSection />, { url: '/cas/1', path: '/cas/*' });
    await userEvent.click(await screen.findByRole('tab', { name: 'CRL' }));
    await userEvent.click(await screen.findByRole('button', { name: 'Edit settings' }));
    const dlg = await screen.findByRole('dialog', { name: 'Revocation settings' });
    const days = within(dlg).getByRole('textbox', { name: 'CRL validity (days)' });
    await userEvent.clear(days);
    await userEvent.type(days, '30');
    await userEvent.click(within(dlg).getByRole('radio', { name: 'The CA itself' }));
    await userEvent.click(within(dlg).getByRole('button', { name: 'Save' }));
    expect(await within(dlg).findByText('ocsp_hours must not exceed crl_days')).toBeInTheDocument();
    expect(calls.find((c) => c.method === 'PUT')!.body).toEqual({ crl_days: 30, delta_hours: 24, ocsp_hours: 24, ocsp_signer: 'ca' });
  });
});
