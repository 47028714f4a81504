import { lazy, Suspense, type ReactNode } from 'react';
import { createBrowserRouter, type RouteObject } from 'react-router';
import { AppLayout, PageLoader } from './layout/AppLayout';
import { RequireAuth, RequirePermission } from './auth/RequireAuth';

// Every screen is its own chunk. PKI sections (cas, certificates, csrs,
// templates) export a component that declares its own nested <Routes>, so
// their owners add sub-pages without touching this file.
const LoginPage = lazy(() => import('./pages/login/LoginPage'));
const ChangePasswordPage = lazy(() => import('./pages/login/ChangePasswordPage'));
const DashboardPage = lazy(() => import('./pages/dashboard/DashboardPage'));
const CertificatesSection = lazy(() => import('./pages/certificates'));
const CasSection = lazy(() => import('./pages/cas'));
const CsrsSection = lazy(() => import('./pages/csrs'));
const TemplatesSection = lazy(() => import('./pages/templates'));
const UsersPage = lazy(() => import('./pages/users/UsersPage'));
const RolesPage = lazy(() => import('./pages/roles/RolesPage'));
const AuditPage = lazy(() => import('./pages/audit/AuditPage'));
const SettingsPage = lazy(() => import('./pages/settings/SettingsPage'));
const AccountPage = lazy(() => import('./pages/account/AccountPage'));
const ToolsPage = lazy(() => import('./pages/tools/ToolsPage'));
const NotFoundPage = lazy(() => import('./pages/errors/NotFoundPage'));

function Standalone({ children }: { children: ReactNode }) {
  return <Suspense fallback={<PageLoader />}>{children}</Suspense>;
}

const guard = (permission: string | string[], el: ReactNode) => <RequirePermission permission={permission}>{el}</RequirePermission>;

export const routes: RouteObject[] = [
  { path: '/login', element: <Standalone><LoginPage /></Standalone> },
  {
    path: '/login/change-password',
    element: (
      <RequireAuth>
        <Standalone>
          <ChangePasswordPage />
        </Standalone>
      </RequireAuth>
    ),
  },
  {
    path: '/',
    element: (
      <RequireAuth>
        <AppLayout />
      </RequireAuth>
    ),
    children: [
      { index: true, element: guard('read:certificates', <DashboardPage />) },
      { path: 'certificates/*', element: guard('read:certificates', <CertificatesSection />) },
      { path: 'cas/*', element: guard('read:cas', <CasSection />) },
      { path: 'csrs/*', element: guard('read:csrs', <CsrsSection />) },
      { path: 'templates/*', element: guard('read:templates', <TemplatesSection />) },
      { path: 'users', element: guard('read:users', <UsersPage />) },
      { path: 'roles', element: guard('read:roles', <RolesPage />) },
      { path: 'audit', element: guard('read:audit', <AuditPage />) },
      { path: 'settings', element: guard('read:settings', <SettingsPage />) },
      { path: 'account/*', element: <AccountPage /> },
      { path: 'tools', element: guard('read:certificates', <ToolsPage />) },
      { path: '*', element: <NotFoundPage /> },
    ],
  },
];

export function makeRouter() {
  return createBrowserRouter(routes);
}
