import { and, asc, eq, gt, isNull, sql, type SQL } from 'drizzle-orm';
import { Hono } from 'hono';
import { z } from 'zod';
import { generateToken, hashToken, tokenPrefix } from '../../auth/api-tokens';
import { requireScope, type AppEnv } from '../../auth/authenticate';
import { SCOPES, userScopes, type Scope } from '../../auth/principal';
import { database, type Database } from '../../db/client';
import { runBatch } from '../../db/d1-batch';
import { apiTokens, users } from '../../db/schema/index';
import { pageOf } from '../pagination';
import { auditedCreate, auditedUpdate, tokenSnapshot } from './audit-log';
import { contains, idField, idParam, intQuery, invalid, isoSeconds, notFound, readJson, readList, unknownReference } from './validation';

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

/**
 * API tokens for scripts and the probe agent. The token is shown once, in the response that creates
 * it; only its SHA-256 is stored. A token for a user acts as that user and never exceeds their role.
 */
export const tokenRoutes = new Hono<AppEnv>()
  .get('/tokens', requireScope('admin'), async (c) => {
    const list = readList(c);
    if ('response' in list) return list.response;
    const userId = intQuery(c, 'user_id');
    if (typeof userId === 'object') return userId.response;
    const where: (SQL | undefined)[] = [
      list.page.after !== null ? gt(apiTokens.id, list.page.after) : undefined,
      list.search ? contains([apiTokens.name, apiTokens.prefix], list.search) : undefined,
      userId !== undefined ? eq(apiTokens.userId, userId) : undefined,
    ];
    const rows = await database(c.env.DB).select().from(apiTokens).where(and(...where)).orderBy(asc(apiTokens.id)).limit(list.page.limit + 1);
    const page = pageOf(rows, list.page.limit, (t) => t.id);
    return c.json({ items: page.items.map(tokenJson), next_cursor: page.next_cursor });
  })
  .post('/tokens', requireScope('admin'), async (c) => {
    const body = await readJson(c, createToken);
    if ('response' in body) return body.response;
    const { name, scopes } = body.data;
    const userId = body.data.user_id ?? null;
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
    const days = body.data.expires_in_days;
    const expiresAt = days ? isoSeconds(new Date(Date.now() + days * DAY_MS)) : null;
    const subject = { actor: c.get('principal').actor, action: 'token.create', entity: 'token' as const, entityId: sql`(SELECT id FROM api_tokens WHERE token_hash = ${tokenHash})` };
    const insert = db.insert(apiTokens).values({ name, tokenHash, prefix: tokenPrefix(token), scopes: scopes.join(','), userId, createdBy: c.get('principal').actor, expiresAt });
    await runBatch(c.env.DB, auditedCreate(subject, [insert], tokenSnapshot(sql`t.token_hash = ${tokenHash}`)));
    const created = await db.select().from(apiTokens).where(eq(apiTokens.tokenHash, tokenHash)).get();
    return c.json({ ...tokenJson(created!), token }, 201, { Location: `/api/admin/tokens/${created!.id}`, 'Cache-Control': 'no-store' });
  })
  .get('/tokens/:id{[0-9]+}', requireScope('admin'), async (c) => {
    const token = await findToken(database(c.env.DB), idParam(c, 'id'));
    if (!token) return notFound(c, `token ${c.req.param('id')}`);
    return c.json(tokenJson(token));
  })
  .delete('/tokens/:id{[0-9]+}', requireScope('admin'), async (c) => {
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
