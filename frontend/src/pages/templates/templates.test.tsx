import { describe, expect, it, vi } from 'vitest';
import { configure, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { me, meRoute, mockFetch, problem, renderApp, VIEWER_PERMISSIONS } from '../../test/utils';
import TemplatesSection from './index';
import { filterTemplates } from './TemplatesPages';
import type { Template } from '../certificates/pki';

configure({ asyncUtilTimeout: 5000 });
// The machine running the suite may be slow; typing-heavy tests need room.
vi.setConfig({ testTimeout: 60000 });

const builtin: Template = { name: 'tls-server', description: 'TLS server', builtin: true, key_usage: [], key_usage_by_key_type: true, extended_key_usage: ['serverAuth'], max_validity_days: 398, allowed_san_types: ['dns', 'ip'], is_ca: false };
const custom: Template = { id: 4, name: 'vpn-client', description: 'VPN', builtin: false, key_usage: ['digitalSignature'], extended_key_usage: ['clientAuth'], max_validity_days: 90, allowed_san_types: ['email'], key_types: ['ec-p256'], subject_fields: ['CN'], is_ca: false };
const all = { body: { data: [builtin, custom] } };

describe('templates list', () => {
  it('filters and sorts on the client from URL state', () => {
    expect(filterTemplates([builtin, custom], '', 'custom', 'name').map((t) => t.name)).toEqual(['vpn-client']);
    expect(filterTemplates([builtin, custom], 'tls', '', 'name').map((t) => t.name)).toEqual(['tls-server']);
    expect(filterTemplates([builtin, custom], '', '', '-max_validity_days').map((t) => t.name)).toEqual(['tls-server', 'vpn-client']);
  });

  it('lists templates and keeps the kind filter in the URL', async () => {
    mockFetch({ 'GET /api/v2/auth/me': meRoute(me()), 'GET /api/v2/templates': all });
    const { router } = renderApp(<TemplatesSection />, { url: '/templates', path: '/templates/*' });
    const table = await screen.findByRole('table', { name: 'Templates' });
    await within(table).findByRole('link', { name: 'vpn-client' });
    await userEvent.click(screen.getByRole('textbox', { name: 'Kind' }));
    await userEvent.click(await screen.findByRole('option', { name: 'Built-in', hidden: true }));
    await waitFor(() => expect(within(table).queryByRole('link', { name: 'vpn-client' })).not.toBeInTheDocument());
    expect(router.state.location.search).toBe('?kind=builtin');
  });

  it('shows built-ins read-only, offering Duplicate only', async () => {
    mockFetch({ 'GET /api/v2/auth/me': meRoute(me()), 'GET /api/v2/templates': all });
    renderApp(<TemplatesSection />, { url: '/templates/tls-server', path: '/templates/*' });
    await screen.findByRole('heading', { name: 'tls-server', level: 1 });
    expect(screen.getByRole('link', { name: 'Duplicate' })).toBeInTheDocument();
    expect(screen.queryByRole('link', { name: 'Edit' })).not.toBeInTheDocument();
  });

  it('hides every write button from a viewer', async () => {
    mockFetch({ 'GET /api/v2/auth/me': meRoute(me({ permissions: VIEWER_PERMISSIONS })), 'GET /api/v2/templates': all });
    renderApp(<TemplatesSection />, { url: '/templates/vpn-client', path: '/templates/*' });
    await screen.findByRole('heading', { name: 'vpn-client', level: 1 });
    for (const n of ['Duplicate', 'Edit']) expect(screen.queryByRole('link', { name: n })).not.toBeInTheDocument();
    expect(screen.queryByRole('button', { name: 'Delete' })).not.toBeInTheDocument();
  });
});

describe('template form', () => {
  it('duplicates a built-in into a new custom template', async () => {
    const calls = mockFetch({ 'GET /api/v2/auth/me': meRoute(me()), 'GET /api/v2/templates': all, 'POST /api/v2/templates': { status: 201, body: { data: { ...builtin, id: 9, name: 'tls-server-copy', builtin: false } } } });
    renderApp(<TemplatesSection />, { url: '/templates/new?from=tls-server', path: '/templates/*' });
    await screen.findByRole('heading', { name: 'Duplicate tls-server', level: 1 });
    expect(screen.getByRole('textbox', { name: 'Name' })).toHaveValue('tls-server-copy');
    await userEvent.click(screen.getByRole('checkbox', { name: 'EC P-256' }));
    await userEvent.click(screen.getByRole('button', { name: 'Create template' }));
    await waitFor(() => expect(calls.some((c) => c.method === 'POST')).toBe(true));
    expect(calls.find((c) => c.method === 'POST')!.body).toEqual({
      name: 'tls-server-copy',
      description: 'TLS server',
      key_usage: [],
      extended_key_usage: ['serverAuth'],
      max_validity_days: 398,
      allowed_san_types: ['dns', 'ip'],
      key_types: ['ec-p256'],
      subject_fields: [],
    });
  });

  it('edits a custom template with PUT and shows a name conflict next to the name', async () => {
    const calls = mockFetch({ 'GET /api/v2/auth/me': meRoute(me()), 'GET /api/v2/templates': all, 'PUT /api/v2/templates/4': problem(409, 'conflict', 'a template with this name exists', { field: 'name' }) });
    renderApp(<TemplatesSection />, { url: '/templates/vpn-client/edit', path: '/templates/*' });
    const name = await screen.findByRole('textbox', { name: 'Name' });
    await userEvent.clear(name);
    await userEvent.type(name, 'Bad Name');
    await userEvent.click(screen.getByRole('button', { name: 'Save' }));
    expect(await screen.findByText(/Lower-case letters, digits, "-" and "_"/)).toBeInTheDocument();
    expect(calls.some((c) => c.method === 'PUT')).toBe(false);
    await userEvent.clear(name);
    await userEvent.type(name, 'tls-server');
    await userEvent.click(screen.getByRole('button', { name: 'Save' }));
    expect(await screen.findByText('a template with this name exists')).toBeInTheDocument();
    expect(name).toHaveAttribute('aria-invalid', 'true');
    expect(calls.find((c) => c.method === 'PUT')!.body).toMatchObject({ name: 'tls-server', max_validity_days: 90, key_types: ['ec-p256'] });
  });

  it('refuses to edit a built-in', async () => {
    mockFetch({ 'GET /api/v2/auth/me': meRoute(me()), 'GET /api/v2/templates': all });
    renderApp(<TemplatesSection />, { url: '/templates/tls-server/edit', path: '/templates/*' });
    expect(await screen.findByText('Built-in templates cannot be changed.')).toBeInTheDocument();
    expect(screen.queryByRole('button', { name: 'Save' })).not.toBeInTheDocument();
  });
});
