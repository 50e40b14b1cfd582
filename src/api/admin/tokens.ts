import { createRoute } from '@hono/zod-openapi';
import { and, asc, eq, gt, isNull, sql, type SQL } from 'drizzle-orm';
import { z } from 'zod';
import { generateToken, hashToken, tokenPrefix } from '../../auth/api-tokens';
import { SCOPES, userScopes, type Scope } from '../../auth/principal';
import { database, type Database } from '../../db/client';
import { runBatch } from '../../db/d1-batch';
import { apiTokens, users } from '../../db/schema/index';
import { ApiRouter, pathId } from '../openapi/api-router';
import { json, jsonRequest, noContent, pageOf as pageSchema, problems } from '../openapi/responses';
import { access } from '../openapi/security';
import { pageOf } from '../pagination';
import { auditedCreate, auditedUpdate, tokenSnapshot } from './audit-log';
import { contains, idField, idParam, idQuery, invalid, isoSeconds, listFrom, listQuery, notFound, unknownReference } from './validation';

const DAY_MS = 86_400_000;

const createToken = z.strictObject({
  name: z.string('must be a string').trim().min(1, 'must not be empty').max(100, 'is longer than 100 characters'),
  scopes: z
    .array(z.enum(SCOPES as [Scope, ...Scope[]], `must each be one of ${SCOPES.map((s) => `"${s}"`).join(', ')}`), 'must be an array of scopes')
    .min(1, 'must name at least one scope')
    // Stored in a fixed order, without repeats.
    .transform((scopes) => SCOPES.filter((s) => scopes.includes(s))),
  user_id: idField.nullable().optional(),
  expires_in_days: z.number('must be a number').int('must be a whole number of days').min(1, 'must be at least 1').max(3650, 'must be at most 3650').nullable().optional(),
});

type TokenRow = typeof apiTokens.$inferSelect;

/** What the API shows of a token: never the token itself or its hash. */
export function tokenJson(t: TokenRow) {
  return {
    id: t.id,
    name: t.name,
    prefix: t.prefix,
    scopes: t.scopes.split(',').filter(Boolean),
    user_id: t.userId,
    created_by: t.createdBy,
    created_at: t.createdAt,
    expires_at: t.expiresAt,
    last_used_at: t.lastUsedAt,
    revoked_at: t.revokedAt,
  };
}

async function findToken(db: Database, id: number | null) {
  return id === null ? undefined : db.select().from(apiTokens).where(eq(apiTokens.id, id)).get();
}

const tokenSchema = z
  .object({
    id: z.int(),
    name: z.string(),
    prefix: z.string().meta({ description: 'The first characters of the token, to recognise it.' }),
    scopes: z.array(z.enum(SCOPES as [Scope, ...Scope[]])),
    user_id: z.int().nullable().meta({ description: 'The user it acts for; null for a service token.' }),
    created_by: z.string(),
    created_at: z.string(),
    expires_at: z.string().nullable(),
    last_used_at: z.string().nullable(),
    revoked_at: z.string().nullable(),
  })
  .meta({ id: 'Token' });

const admin = { tags: ['admin'], ...access('admin') };
const params = z.object({ id: pathId });

const listTokens = createRoute({
  method: 'get',
  path: '/tokens',
  summary: 'List API tokens (never the tokens themselves)',
  ...admin,
  request: { query: listQuery.extend({ user_id: idQuery.meta({ description: 'Only the tokens acting for this user.' }) }) },
  responses: { 200: json(pageSchema(tokenSchema), 'Tokens by id, revoked ones included.'), ...problems(400, 401, 403) },
});

const addToken = createRoute({
  method: 'post',
  path: '/tokens',
  summary: 'Make an API token; the response is the only time it is shown',
  ...admin,
  request: { body: jsonRequest(createToken) },
  responses: {
    201: json(tokenSchema.extend({ token: z.string().meta({ description: 'The secret; store it now.' }) }), 'Created (Location: its URL; Cache-Control: no-store).'),
    ...problems(400, 401, 403, 404),
  },
});

const getToken = createRoute({
  method: 'get',
  path: '/tokens/{id{[0-9]+}}',
  summary: 'An API token',
  ...admin,
  request: { params },
  responses: { 200: json(tokenSchema, 'The token (not its secret).'), ...problems(401, 403, 404) },
});

const revokeToken = createRoute({
  method: 'delete',
  path: '/tokens/{id{[0-9]+}}',
  summary: 'Revoke an API token (idempotent; it stays listed with revoked_at)',
  ...admin,
  request: { params },
  responses: { 204: noContent('Revoked.'), ...problems(401, 403, 404) },
});

/**
 * API tokens for scripts and the probe agent. The token is shown once, in the response that creates
 * it; only its SHA-256 is stored. A token for a user acts as that user and never exceeds their role.
 */
export const tokenRoutes = new ApiRouter()
  .declare(listTokens, async (c) => {
    const query = c.req.valid('query');
    const list = listFrom(query);
    const userId = query.user_id;
    const where: (SQL | undefined)[] = [
      list.page.after !== null ? gt(apiTokens.id, list.page.after) : undefined,
      list.search ? contains([apiTokens.name, apiTokens.prefix], list.search) : undefined,
      userId !== undefined ? eq(apiTokens.userId, userId) : undefined,
    ];
    const rows = await database(c.env.DB).select().from(apiTokens).where(and(...where)).orderBy(asc(apiTokens.id)).limit(list.page.limit + 1);
    const page = pageOf(rows, list.page.limit, (t) => t.id);
    return c.json({ items: page.items.map(tokenJson), next_cursor: page.next_cursor });
  })
  .declare(addToken, async (c) => {
    const body = c.req.valid('json');
    const { name, scopes } = body;
    const userId = body.user_id ?? null;
    // A token must not mint a service token: that would outlive the user it acts for (a demoted or
    // deleted admin's token could leave behind an admin credential tied to nobody).
    if (userId === null && c.get('principal').kind === 'token') {
      return invalid(c, [{ path: 'user_id', message: 'a service token (no user_id) can only be created by a signed-in administrator or with the bootstrap token' }]);
    }
    const db = database(c.env.DB);
    if (userId !== null) {
      const user = await db.select({ id: users.id, role: users.role }).from(users).where(eq(users.id, userId)).get();
      if (!user) return unknownReference(c, 'user_id', `no user ${userId}`);
      const allowed = userScopes(user.role);
      const beyond = scopes.filter((s) => !allowed.has(s));
      if (beyond.length > 0) {
        return invalid(c, [{ path: 'scopes', message: `user ${userId} is a ${user.role}; a token acting for them cannot have ${beyond.map((s) => `"${s}"`).join(', ')}` }]);
      }
    }
    const token = generateToken();
    const tokenHash = await hashToken(token);
    const days = body.expires_in_days;
    const expiresAt = days ? isoSeconds(new Date(Date.now() + days * DAY_MS)) : null;
    const subject = { actor: c.get('principal').actor, action: 'token.create', entity: 'token' as const, entityId: sql`(SELECT id FROM api_tokens WHERE token_hash = ${tokenHash})` };
    const insert = db.insert(apiTokens).values({ name, tokenHash, prefix: tokenPrefix(token), scopes: scopes.join(','), userId, createdBy: c.get('principal').actor, expiresAt });
    await runBatch(c.env.DB, auditedCreate(subject, [insert], tokenSnapshot(sql`t.token_hash = ${tokenHash}`)));
    const created = await db.select().from(apiTokens).where(eq(apiTokens.tokenHash, tokenHash)).get();
    return c.json({ ...tokenJson(created!), token }, 201, { Location: `/api/admin/tokens/${created!.id}`, 'Cache-Control': 'no-store' });
  })
  .declare(getToken, async (c) => {
    const token = await findToken(database(c.env.DB), idParam(c, 'id'));
    if (!token) return notFound(c, `token ${c.req.param('id')}`);
    return c.json(tokenJson(token));
  })
  .declare(revokeToken, async (c) => {
    const db = database(c.env.DB);
    const token = await findToken(db, idParam(c, 'id'));
    if (!token) return notFound(c, `token ${c.req.param('id')}`);
    if (token.revokedAt === null) {
      const subject = { actor: c.get('principal').actor, action: 'token.revoke', entity: 'token' as const, entityId: token.id };
      const unrevoked = sql`EXISTS (SELECT 1 FROM api_tokens WHERE id = ${token.id} AND revoked_at IS NULL)`;
      await runBatch(
        c.env.DB,
        auditedUpdate(
          subject,
          [db.update(apiTokens).set({ revokedAt: isoSeconds(new Date()) }).where(and(eq(apiTokens.id, token.id), isNull(apiTokens.revokedAt)))],
          tokenSnapshot(sql`t.id = ${token.id}`),
          unrevoked,
        ),
      );
    }
    return c.body(null, 204);
  });
