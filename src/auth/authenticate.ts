import { and, eq, isNull } from 'drizzle-orm';
import { getCookie } from 'hono/cookie';
import type { Context, MiddlewareHandler } from 'hono';
import { problem } from '../api/problem';
import { database } from '../db/client';
import { apiTokens, auditLog, users } from '../db/schema/index';
import { accessConfig, verifyAccessJwt } from './access-jwt';
import { hashToken } from './api-tokens';
import { DEV_COOKIE, devSignInEnabled } from './dev-sign-in';
import { expandScopes, type Principal, type Scope, userScopes } from './principal';
import { authFailureLimited, clientAddress, rateLimitKey, recordAuthFailure } from './rate-limit';
import { tokenMatches } from './secret-compare';

export type AuthVariables = { principal: Principal };
export type AppEnv = { Bindings: Env; Variables: AuthVariables };

type Outcome = { principal: Principal } | { failure: string } | null;

/** Refresh `last_used_at` at most once a minute per token, not on every request. */
const LAST_USED_RESOLUTION_MS = 60_000;

/**
 * The two configured secrets may be chosen by a person, so a short one is ignored rather than made
 * guessable: tokens the Worker makes are 43 characters, `npm start` makes 32.
 */
export const MIN_SECRET_LENGTH = 32;

function strongSecret(secret: string | undefined): string | undefined {
  return secret && secret.length >= MIN_SECRET_LENGTH ? secret : undefined;
}

async function fromBearer(env: Env, token: string): Promise<Outcome> {
  if (await tokenMatches(token, strongSecret(env.BOOTSTRAP_ADMIN_TOKEN))) {
    return { principal: { kind: 'bootstrap', actor: 'bootstrap', userId: null, email: null, scopes: expandScopes(['admin']), allDomains: true, ambient: false } };
  }
  if (await tokenMatches(token, strongSecret(env.INGEST_TOKEN))) {
    return { principal: { kind: 'token', actor: 'ingest-token', userId: null, email: null, scopes: new Set<Scope>(['ingest']), allDomains: false, ambient: false } };
  }
  const db = database(env.DB);
  const row = await db
    .select({ token: apiTokens, user: users })
    .from(apiTokens)
    .leftJoin(users, eq(users.id, apiTokens.userId))
    .where(and(eq(apiTokens.tokenHash, await hashToken(token)), isNull(apiTokens.revokedAt)))
    .get();
  if (!row) return { failure: 'The API token is not valid.' };
  const now = new Date();
  if (row.token.expiresAt && Date.parse(row.token.expiresAt) <= now.getTime()) return { failure: 'The API token has expired.' };
  if (row.token.userId !== null && !row.user) return { failure: 'The API token belongs to a user who no longer exists.' };
  if (!row.token.lastUsedAt || now.getTime() - Date.parse(row.token.lastUsedAt) > LAST_USED_RESOLUTION_MS) {
    await db.update(apiTokens).set({ lastUsedAt: now.toISOString().replace(/\.\d{3}Z$/, 'Z') }).where(eq(apiTokens.id, row.token.id));
  }
  let scopes = expandScopes(row.token.scopes.split(',').filter(Boolean) as Scope[]);
  // A token acts for its user and can never do more than they can.
  if (row.user) scopes = new Set([...scopes].filter((s) => userScopes(row.user!.role).has(s)));
  return {
    principal: {
      kind: 'token',
      actor: `token:${row.token.id}`,
      userId: row.user?.id ?? null,
      email: row.user?.email ?? null,
      scopes,
      allDomains: row.user ? row.user.role === 'admin' : true,
      ambient: false,
    },
  };
}

async function userPrincipal(env: Env, email: string, kind: 'access' | 'dev'): Promise<Outcome> {
  const db = database(env.DB);
  let user = await db.select().from(users).where(eq(users.email, email)).get();
  if (!user && env.AUTO_ENROL === 'true') {
    const created = await db.insert(users).values({ email, role: 'member' }).onConflictDoNothing().returning().get();
    if (created) {
      await db.insert(auditLog).values({
        actor: `auto-enrol ${email}`,
        action: 'user.create',
        entity: 'user',
        entityId: String(created.id),
        after: JSON.stringify({ id: created.id, email: created.email, name: created.name, role: created.role, created_at: created.createdAt, group_ids: [] }),
      });
    }
    user = created ?? (await db.select().from(users).where(eq(users.email, email)).get());
  }
  if (!user) return { failure: `${email} is not a user of MailCheck Edge; ask an administrator to add you.` };
  return {
    principal: {
      kind,
      actor: `${kind === 'dev' ? 'dev' : 'user'}:${user.id} ${user.email}`,
      userId: user.id,
      email: user.email,
      scopes: userScopes(user.role),
      allDomains: user.role === 'admin',
      ambient: true,
    },
  };
}

async function identify(c: Context<AppEnv>): Promise<Outcome> {
  const authorization = c.req.header('Authorization');
  if (authorization !== undefined) {
    const match = /^Bearer\s+(\S+)$/i.exec(authorization);
    return match?.[1] ? fromBearer(c.env, match[1]) : { failure: 'Send an API token as "Authorization: Bearer <token>".' };
  }
  const assertion = c.req.header('Cf-Access-Jwt-Assertion');
  if (assertion !== undefined) {
    const config = accessConfig(c.env);
    if (!config) return { failure: 'Cloudflare Access is not configured for this Worker.' };
    const identity = await verifyAccessJwt(assertion, config);
    return identity.ok ? userPrincipal(c.env, identity.email, 'access') : { failure: identity.reason };
  }
  const devEmail = devSignInEnabled(c.env) ? getCookie(c, DEV_COOKIE) : undefined;
  if (devEmail) return userPrincipal(c.env, devEmail.toLowerCase(), 'dev');
  return null;
}

/**
 * The one authentication middleware for every route: bearer tokens (the bootstrap secret, the
 * ingest secret, stored API tokens), then Cloudflare Access, then the development sign-in. After 20
 * failures from one address (an IPv6 /64) in 5 minutes, further failures answer 429.
 */
export function authenticate(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const outcome = await identify(c);
    if (outcome === null) {
      return problem(c, 401, 'Unauthorized', 'Sign in through Cloudflare Access, or send an API token as "Authorization: Bearer <token>".');
    }
    if ('failure' in outcome) {
      // Only failures are limited: valid credentials behind the same address (an office NAT, a
      // shared egress) keep working while someone there retries a bad token.
      const key = rateLimitKey(clientAddress(c));
      if (await authFailureLimited(c.env, key)) {
        return problem(c, 429, 'Too Many Requests', 'Too many failed sign-ins from this address; try again later.', {}, { 'Retry-After': '300' });
      }
      await recordAuthFailure(c.env, key);
      return problem(c, 401, 'Unauthorized', outcome.failure);
    }
    c.set('principal', outcome.principal);
    await next();
  };
}

/** Refuses principals without the scope: 403 (they are known, just not allowed). */
export function requireScope(scope: Scope): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const principal = c.get('principal');
    if (!principal.scopes.has(scope)) {
      return problem(c, 403, 'Forbidden', `This needs the "${scope}" permission.`);
    }
    await next();
  };
}

