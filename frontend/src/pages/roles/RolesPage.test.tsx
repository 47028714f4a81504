import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { ALL_PERMISSIONS, me, meRoute, mockFetch, renderApp, VIEWER_PERMISSIONS, whenSignedIn } from '../../test/utils';
import RolesPage from './RolesPage';
import { matrixOf } from './PermissionMatrix';

const roles = [
  { id: 1, name: 'admin', description: 'Everything', builtin: true, permissions: ALL_PERMISSIONS, users: 1 },
  { id: 4, name: 'auditor', description: 'Reads the log', builtin: false, permissions: ['read:account', 'write:account', 'read:audit'], users: 0 },
];

describe('RolesPage', () => {
  it('splits the whitelist into resources and actions', () => {
    const m = matrixOf(['read:cas', 'write:cas', 'export:audit']);
    expect(m.actions).toEqual(['read', 'write', 'export']);
    expect(m.resources).toEqual(['cas', 'audit']);
  });

  it('edits a custom role with the permission matrix', async () => {
    const calls = mockFetch({
      'GET /api/v2/auth/me': meRoute(me()),
      'GET /api/v2/roles': { body: { data: roles } },
      'GET /api/v2/roles/permissions': { body: { data: ALL_PERMISSIONS } },
      'PUT /api/v2/roles/4': (c) => ({ body: { data: { ...roles[1], ...(c.body as object) } } }),
    });
    const user = userEvent.setup();
    renderApp(<RolesPage />, { url: '/roles' });
    await user.click(await screen.findByRole('button', { name: 'Edit role auditor' }));
    const dialog = await screen.findByRole('dialog', { name: 'Edit role auditor' });
    expect(within(dialog).getByRole('checkbox', { name: 'read:audit' })).toBeChecked();
    expect(within(dialog).getByRole('checkbox', { name: 'read:account' })).toBeDisabled();
    await user.click(within(dialog).getByRole('checkbox', { name: 'export:audit' }));
    await user.click(within(dialog).getByRole('checkbox', { name: 'read:audit' }));
    await user.click(within(dialog).getByRole('button', { name: 'Save' }));
    await waitFor(() => expect(calls.some((c) => c.method === 'PUT')).toBe(true));
    const put = calls.find((c) => c.method === 'PUT')!;
    expect(put.body).toEqual({ description: 'Reads the log', permissions: ['export:audit'] });
  });

  it('built-in roles are read only and a viewer cannot create', async () => {
    mockFetch({
      'GET /api/v2/auth/me': meRoute(me({ permissions: VIEWER_PERMISSIONS })),
      'GET /api/v2/roles': { body: { data: roles } },
      'GET /api/v2/roles/permissions': { body: { data: ALL_PERMISSIONS } },
    });
    const user = userEvent.setup();
    const { qc } = renderApp(<RolesPage />, { url: '/roles' });
    await whenSignedIn(qc);
    await user.click(await screen.findByRole('button', { name: 'View role auditor' }));
    expect(screen.queryByRole('button', { name: 'Create role' })).not.toBeInTheDocument();
    expect(screen.queryByRole('button', { name: /Delete role/ })).not.toBeInTheDocument();
    const dialog = await screen.findByRole('dialog', { name: 'Role auditor' });
    expect(within(dialog).getByRole('checkbox', { name: 'read:audit' })).toBeDisabled();
    expect(within(dialog).queryByRole('button', { name: 'Save' })).not.toBeInTheDocument();
  });
});
