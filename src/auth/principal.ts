/** Who is asking, once authenticated: every route decides with this and nothing else. */
export type Scope = 'read' | 'ingest' | 'probe' | 'admin';
export const SCOPES: readonly Scope[] = ['read', 'ingest', 'probe', 'admin'];

export interface Principal {
  /** How they proved it: an API token, the bootstrap secret, Cloudflare Access, the dev sign-in. */
  kind: 'token' | 'bootstrap' | 'access' | 'dev';
  /** For the audit log: `user:3 ann@example.org`, `token:7`, `bootstrap`. */
  actor: string;
  userId: number | null;
  email: string | null;
  scopes: ReadonlySet<Scope>;
  /** Admins and service tokens see every domain; everyone else the domains of their groups. */
  allDomains: boolean;
  /** Authenticated by a cookie the browser sends by itself: mutations need a CSRF check. */
  ambient: boolean;
}

/** `admin` includes every other scope. */
export function expandScopes(scopes: Iterable<Scope>): Set<Scope> {
  const set = new Set(scopes);
  return set.has('admin') ? new Set(SCOPES) : set;
}

export function hasScope(principal: Principal, scope: Scope): boolean {
  return principal.scopes.has(scope);
}

/** What a signed-in person may do: admins everything, members read their groups' data. */
export function userScopes(role: 'admin' | 'member'): Set<Scope> {
  return role === 'admin' ? expandScopes(['admin']) : new Set<Scope>(['read']);
}
