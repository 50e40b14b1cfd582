/**
 * How UI pages get their data: they call the Worker's own JSON API in-process, with the browser's
 * credentials forwarded, so access control and logic are exactly the API's (docs/ui.md).
 *
 *   const me = await apiJson<Me>(c, '/api/me');                       // throws ApiError on 4xx/5xx
 *   const r = await apiCall(c, `/api/domainstatus/${d}/recheck`, { method: 'POST' });   // never throws
 *
 * An ApiError thrown from a page handler is rendered by the UI's error handler (src/ui/app.tsx): 401 →
 * the sign-in page, 403/404 → a friendly page, 5xx → a page without details.
 */
import type { Context } from 'hono';

/** The whole Worker app's fetch, passed in by src/api/app.ts so the UI never imports it (no cycle). */
export type ApiFetch = (request: Request, env: Env, ctx: ExecutionContext) => Promise<Response>;

/** Who is signed in, as GET /api/me says. */
export interface Me {
  kind: 'token' | 'bootstrap' | 'access' | 'dev';
  email: string | null;
  user_id: number | null;
  role?: 'admin' | 'member';
  scopes: string[];
  all_domains: boolean;
  groups: { id: number; name: string }[];
  domains: string[];
}

export type UiEnv = { Bindings: Env; Variables: { api: ApiFetch; me: Me } };
export type UiContext = Context<UiEnv>;

/** An RFC 9457 problem as the API sends it. */
export interface Problem {
  title: string;
  status: number;
  detail?: string;
  errors?: { path: string; message: string }[];
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly problem: Problem,
  ) {
    super(`${problem.status} ${problem.title}${problem.detail ? `: ${problem.detail}` : ''}`);
  }
}

/**
 * The request headers that carry who the caller is and where they come from. Origin and
 * Sec-Fetch-Site are the browser's own, so the API's CSRF check judges the real request.
 */
const FORWARDED = ['Authorization', 'Cookie', 'Cf-Access-Jwt-Assertion', 'CF-Connecting-IP', 'Origin', 'Sec-Fetch-Site', 'User-Agent'];

export type ApiResult<T> = { ok: true; status: number; data: T; headers: Headers } | { ok: false; status: number; problem: Problem; headers: Headers };

export interface ApiInit {
  method?: string;
  /** JSON-encoded unless a string or bytes (sent as is, with `contentType`). */
  body?: unknown;
  contentType?: string;
}

/** Calls `path` (starting `/api/`) on this Worker as the current caller. Never throws for a status. */
export async function apiCall<T = unknown>(c: UiContext, path: string, init: ApiInit = {}): Promise<ApiResult<T>> {
  const headers = new Headers();
  for (const name of FORWARDED) {
    const value = c.req.header(name);
    if (value !== undefined) headers.set(name, value);
  }
  let body: string | Uint8Array | undefined;
  if (init.body !== undefined) {
    body = typeof init.body === 'string' || init.body instanceof Uint8Array ? init.body : JSON.stringify(init.body);
    headers.set('Content-Type', init.contentType ?? 'application/json');
  }
  headers.set('Accept', 'application/json');
  const url = new URL(path, c.req.url);
  const response = await c.get('api')(new Request(url, { method: init.method ?? 'GET', headers, body }), c.env, executionContext(c));
  const text = await response.text();
  let parsed: unknown = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    parsed = null;
  }
  if (response.ok) return { ok: true, status: response.status, data: parsed as T, headers: response.headers };
  const problem = parsed && typeof parsed === 'object' && 'title' in parsed ? (parsed as Problem) : { title: response.statusText || 'Error', status: response.status };
  return { ok: false, status: response.status, problem, headers: response.headers };
}

/** Hono throws when a request came without one (app.request in a unit test); the API copes without. */
export function executionContext(c: UiContext): ExecutionContext {
  try {
    return c.executionCtx as unknown as ExecutionContext;
  } catch {
    return { waitUntil: () => {}, passThroughOnException: () => {}, props: {} } as unknown as ExecutionContext;
  }
}

/** GET `path` and return its JSON; any failure throws ApiError for the UI's error pages. */
export async function apiJson<T>(c: UiContext, path: string): Promise<T> {
  const result = await apiCall<T>(c, path);
  if (!result.ok) throw new ApiError(result.status, result.problem);
  return result.data;
}

/**
 * The caller, from GET /api/me (once per request). Throws ApiError(401) when nobody is signed in,
 * which the UI's error handler turns into the sign-in page.
 */
export async function currentUser(c: UiContext): Promise<Me> {
  const known = c.get('me');
  if (known) return known;
  const me = await apiJson<Me>(c, '/api/me');
  c.set('me', me);
  return me;
}

export const isAdmin = (me: Me): boolean => me.scopes.includes('admin');

/** A query string from the defined, non-empty values only. */
export function query(params: Record<string, string | number | undefined | null>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value !== undefined && value !== null && value !== '') search.set(key, String(value));
  const text = search.toString();
  return text ? `?${text}` : '';
}
