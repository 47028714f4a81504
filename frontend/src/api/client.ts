// Fetch wrapper for /api/v2: JSON in and out, problem+json errors as
// ApiError, the X-CSRF-Token header on state-changing requests, and one
// handler for 401 answers (the auth context sends the user to the login page).

export const API_BASE = '/api/v2';

export interface Problem {
  type?: string;
  title: string;
  status: number;
  detail?: string;
  code: string;
  request_id?: string;
  field?: string;
  [extra: string]: unknown;
}

export interface ListMeta {
  total: number;
  /** false when the server stopped counting at its cap (total is a lower bound). */
  total_exact?: boolean;
  /** Cursor for the next page (`after=`), where the list offers one. */
  next_after?: number | string | null;
  page: number;
  per_page: number;
}

export interface ApiResult<T, M = ListMeta | undefined> {
  data: T;
  meta: M;
}

/** An error answer of the API (or a network failure, status 0). */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly title: string;
  readonly detail: string;
  readonly field: string | undefined;
  readonly requestId: string | undefined;
  readonly problem: Problem;

  constructor(problem: Problem) {
    super(problem.detail || problem.title);
    this.name = 'ApiError';
    this.problem = problem;
    this.status = problem.status;
    this.code = problem.code;
    this.title = problem.title;
    this.detail = problem.detail ?? '';
    this.field = typeof problem.field === 'string' ? problem.field : undefined;
    this.requestId = problem.request_id;
  }
}

export function isApiError(e: unknown): e is ApiError {
  return e instanceof ApiError;
}

let csrfToken: string | null = null;
let unauthorizedHandler: ((err: ApiError) => void) | null = null;

export function setCsrfToken(token: string | null): void {
  csrfToken = token;
}

export function getCsrfToken(): string | null {
  return csrfToken;
}

/** Called for every 401 unless the request asked for `noAuthRedirect`. */
export function setUnauthorizedHandler(fn: ((err: ApiError) => void) | null): void {
  unauthorizedHandler = fn;
}

export type QueryValue = string | number | boolean | null | undefined;
export type Query = Record<string, QueryValue | QueryValue[]>;

export interface RequestOptions {
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  query?: Query;
  body?: unknown;
  signal?: AbortSignal;
  /** Do not call the 401 handler (login, the first /auth/me). */
  noAuthRedirect?: boolean;
  headers?: Record<string, string>;
}

export function buildUrl(path: string, query?: Query): string {
  const url = path.startsWith('/api/') ? path : API_BASE + (path.startsWith('/') ? path : '/' + path);
  if (!query) return url;
  const sp = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    const vals = Array.isArray(v) ? v : [v];
    for (const one of vals) {
      if (one === undefined || one === null || one === '') continue;
      sp.append(k, String(one));
    }
  }
  const s = sp.toString();
  return s ? `${url}?${s}` : url;
}

const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

async function send(path: string, opts: RequestOptions, accept: string): Promise<Response> {
  const method = opts.method ?? 'GET';
  const headers: Record<string, string> = { Accept: accept, ...(opts.headers ?? {}) };
  let body: string | undefined;
  if (opts.body !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(opts.body);
  }
  if (UNSAFE.has(method) && csrfToken) headers['X-CSRF-Token'] = csrfToken;
  let res: Response;
  try {
    res = await fetch(buildUrl(path, opts.query), {
      method,
      headers,
      body,
      credentials: 'same-origin',
      signal: opts.signal,
    });
  } catch (e) {
    if (e instanceof DOMException && e.name === 'AbortError') throw e;
    throw new ApiError({
      title: 'Network error',
      status: 0,
      code: 'network_error',
      detail: 'The server could not be reached. Check the connection and try again.',
    });
  }
  if (!res.ok) {
    const err = await toApiError(res);
    if (err.status === 401 && !opts.noAuthRedirect && unauthorizedHandler) unauthorizedHandler(err);
    throw err;
  }
  return res;
}

export async function toApiError(res: Response): Promise<ApiError> {
  const ct = res.headers.get('Content-Type') ?? '';
  let problem: Problem | null = null;
  if (ct.includes('json')) {
    try {
      const j: unknown = await res.json();
      if (j && typeof j === 'object') {
        const o = j as Record<string, unknown>;
        problem = {
          ...o,
          title: typeof o.title === 'string' ? o.title : res.statusText || 'Error',
          status: typeof o.status === 'number' ? o.status : res.status,
          code: typeof o.code === 'string' ? o.code : 'http_' + res.status,
          detail: typeof o.detail === 'string' ? o.detail : undefined,
        };
      }
    } catch {
      problem = null;
    }
  }
  if (!problem) {
    problem = {
      title: res.statusText || 'Error',
      status: res.status,
      code: 'http_' + res.status,
      detail: `The server answered ${res.status}${res.statusText ? ' ' + res.statusText : ''}.`,
    };
  }
  return new ApiError(problem);
}

/** A JSON request; resolves to the `{data, meta}` envelope (or undefined data for 204). */
export async function request<T, M = ListMeta | undefined>(path: string, opts: RequestOptions = {}): Promise<ApiResult<T, M>> {
  const res = await send(path, opts, 'application/json');
  if (res.status === 204) return { data: undefined as T, meta: undefined as M };
  const text = await res.text();
  if (!text) return { data: undefined as T, meta: undefined as M };
  const j = JSON.parse(text) as { data: T; meta?: M };
  return { data: j.data, meta: j.meta as M };
}

/** A download: the body as a Blob plus the file name from Content-Disposition. */
export async function requestBlob(path: string, opts: RequestOptions = {}): Promise<{ blob: Blob; filename: string | null; contentType: string }> {
  const res = await send(path, opts, '*/*');
  const blob = await res.blob();
  const cd = res.headers.get('Content-Disposition') ?? '';
  const m = /filename\*?=(?:UTF-8'')?"?([^";]+)"?/i.exec(cd);
  return { blob, filename: m?.[1] ? decodeURIComponent(m[1]) : null, contentType: res.headers.get('Content-Type') ?? '' };
}

export const api = {
  get: <T, M = ListMeta | undefined>(path: string, query?: Query, opts: Omit<RequestOptions, 'method' | 'query'> = {}) =>
    request<T, M>(path, { ...opts, method: 'GET', query }),
  post: <T>(path: string, body?: unknown, opts: Omit<RequestOptions, 'method' | 'body'> = {}) =>
    request<T, undefined>(path, { ...opts, method: 'POST', body }),
  put: <T>(path: string, body?: unknown, opts: Omit<RequestOptions, 'method' | 'body'> = {}) =>
    request<T, undefined>(path, { ...opts, method: 'PUT', body }),
  patch: <T>(path: string, body?: unknown, opts: Omit<RequestOptions, 'method' | 'body'> = {}) =>
    request<T, undefined>(path, { ...opts, method: 'PATCH', body }),
  del: <T = void>(path: string, opts: Omit<RequestOptions, 'method'> = {}) =>
    request<T, undefined>(path, { ...opts, method: 'DELETE' }),
};
