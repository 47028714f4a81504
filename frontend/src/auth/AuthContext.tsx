import { createContext, useCallback, useContext, useEffect, useMemo, useRef, type ReactNode } from 'react';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { api, isApiError, setCsrfToken, setUnauthorizedHandler } from '../api/client';
import type { LoginResult, Me } from '../api/types';

export const ME_KEY = ['auth', 'me'] as const;

export interface AuthState {
  /** The signed-in user, null when signed out, undefined while loading. */
  user: Me | null | undefined;
  loading: boolean;
  /** True when the user holds the permission (`action:resource`). */
  can: (permission: string) => boolean;
  /** Store a login answer (CSRF token) and load /auth/me. */
  signedIn: (result: LoginResult) => Promise<void>;
  logout: () => Promise<void>;
  refresh: () => Promise<void>;
}

const AuthContext = createContext<AuthState | null>(null);

/** Loads the caller with GET /auth/me (401 means signed out). */
export async function fetchMe(): Promise<Me | null> {
  try {
    const r = await api.get<{ user: Me; csrf_token?: string }>('/auth/me', undefined, { noAuthRedirect: true });
    if (r.data.csrf_token) setCsrfToken(r.data.csrf_token);
    return r.data.user;
  } catch (e) {
    if (isApiError(e) && e.status === 401) {
      setCsrfToken(null);
      return null;
    }
    throw e;
  }
}

export function AuthProvider({ children }: { children: ReactNode }) {
  const qc = useQueryClient();
  const me = useQuery({
    queryKey: ME_KEY,
    queryFn: fetchMe,
    staleTime: 5 * 60_000,
    retry: (n, e) => !(isApiError(e) && e.status > 0 && e.status < 500) && n < 2,
  });

  useEffect(() => {
    setUnauthorizedHandler(() => {
      setCsrfToken(null);
      void qc.cancelQueries({ queryKey: ME_KEY });
      qc.setQueryData(ME_KEY, null);
      qc.removeQueries({ predicate: (q) => q.queryKey[0] !== ME_KEY[0] });
    });
    return () => setUnauthorizedHandler(null);
  }, [qc]);

  const user = me.data;

  // logout() resolves only once this provider has rendered the signed-out
  // state: a page it navigates to (the login page) must not still see the
  // old user, or it would send the browser straight back into the app.
  const signedOutWaiters = useRef<(() => void)[]>([]);
  useEffect(() => {
    if (user === null) signedOutWaiters.current.splice(0).forEach((done) => done());
  }, [user]);
  const perms = useMemo(() => new Set(user?.permissions ?? []), [user]);
  const can = useCallback((p: string) => perms.has(p), [perms]);

  const signedIn = useCallback(
    async (result: LoginResult) => {
      setCsrfToken(result.csrf_token);
      sessionStorage.setItem('cw_session_exp', String(Date.now() + result.expires_in * 1000));
      await qc.fetchQuery({ queryKey: ME_KEY, queryFn: fetchMe, staleTime: 0 });
    },
    [qc],
  );

  const logout = useCallback(async () => {
    try {
      await api.post<void>('/auth/logout', undefined, { noAuthRedirect: true });
    } catch {
      // Signed out locally whatever the server said.
    }
    setCsrfToken(null);
    sessionStorage.removeItem('cw_session_exp');
    // A /auth/me still in flight would put the signed-out user back when it
    // lands (and the login page would then leave for the app): cancel first.
    await qc.cancelQueries();
    const rendered = new Promise<void>((done) => {
      signedOutWaiters.current.push(done);
      setTimeout(done, 2000); // never hang a sign-out on a provider that went away
    });
    qc.setQueryData(ME_KEY, null);
    // Drop every other cached answer: the next user must not see them.
    qc.removeQueries({ predicate: (q) => q.queryKey[0] !== ME_KEY[0] });
    await rendered;
  }, [qc]);

  const refresh = useCallback(async () => {
    await qc.fetchQuery({ queryKey: ME_KEY, queryFn: fetchMe, staleTime: 0 });
  }, [qc]);

  const value = useMemo<AuthState>(
    () => ({ user: me.isPending ? undefined : (user ?? null), loading: me.isPending, can, signedIn, logout, refresh }),
    [me.isPending, user, can, signedIn, logout, refresh],
  );
  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}

export function useAuth(): AuthState {
  const ctx = useContext(AuthContext);
  if (!ctx) throw new Error('useAuth outside AuthProvider');
  return ctx;
}

/** Shows children only when the user holds `permission` (all of them for an array). */
export function Can({ permission, children, fallback = null }: { permission: string | string[]; children: ReactNode; fallback?: ReactNode }) {
  const { can } = useAuth();
  const list = Array.isArray(permission) ? permission : [permission];
  return <>{list.every(can) ? children : fallback}</>;
}
