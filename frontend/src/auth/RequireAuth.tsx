import type { ReactNode } from 'react';
import { Navigate, useLocation } from 'react-router';
import { Center, Loader } from '@mantine/core';
import { useAuth } from './AuthContext';
import { Forbidden } from '../components/Forbidden';

/** Sends signed-out users to /login?next=<here>; forced password change and 2FA enrolment win over every page. */
export function RequireAuth({ children }: { children: ReactNode }) {
  const { user } = useAuth();
  const loc = useLocation();
  if (user === undefined) {
    return (
      <Center h="100vh">
        <Loader aria-label="Loading" />
      </Center>
    );
  }
  if (user === null) {
    const next = loc.pathname + loc.search;
    return <Navigate to={`/login?next=${encodeURIComponent(next)}`} replace />;
  }
  if (user.auth === 'session' && user.must_change_password && loc.pathname !== '/login/change-password') {
    return <Navigate to={`/login/change-password?next=${encodeURIComponent(loc.pathname + loc.search)}`} replace />;
  }
  if (user.two_factor_enrolment_required && loc.pathname !== '/account/2fa') {
    return <Navigate to="/account/2fa" replace />;
  }
  return <>{children}</>;
}

/** Shows a "not permitted" page unless the user holds every permission listed. */
export function RequirePermission({ permission, children }: { permission: string | string[]; children: ReactNode }) {
  const { can } = useAuth();
  const list = Array.isArray(permission) ? permission : [permission];
  if (!list.every(can)) return <Forbidden />;
  return <>{children}</>;
}
