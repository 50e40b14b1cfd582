import { and, eq, lt, sql } from 'drizzle-orm';
import type { Context } from 'hono';
import ipaddr from 'ipaddr.js';
import { database } from '../db/client';
import { authFailures } from '../db/schema/index';

/** Failed authentications allowed per address in one window before 429. */
export const AUTH_FAILURE_LIMIT = 20;
export const AUTH_WINDOW_MINUTES = 5;

/** Cloudflare sets CF-Connecting-IP to the client's address; it cannot be forged through the edge. */
export function clientAddress(c: Context): string {
  return c.req.header('CF-Connecting-IP') ?? 'unknown';
}

/**
 * What failures are counted against: the address, or for IPv6 its /64, since one host commonly
 * holds a whole /64 and could otherwise rotate through it.
 */
export function rateLimitKey(address: string): string {
  if (!ipaddr.isValid(address)) return address;
  const parsed = ipaddr.process(address);
  if (parsed.kind() === 'ipv4') return parsed.toString();
  const parts = (parsed as ipaddr.IPv6).parts.slice(0, 4).map((p) => p.toString(16));
  return `${parts.join(':')}::/64`;
}

function windowKey(now: Date): string {
  const start = Math.floor(now.getTime() / (AUTH_WINDOW_MINUTES * 60_000)) * AUTH_WINDOW_MINUTES * 60_000;
  return new Date(start).toISOString();
}

export async function authFailureLimited(env: Env, key: string, now = new Date()): Promise<boolean> {
  const row = await database(env.DB)
    .select({ count: authFailures.count })
    .from(authFailures)
    .where(and(eq(authFailures.ip, key), eq(authFailures.window, windowKey(now))))
    .get();
  return (row?.count ?? 0) >= AUTH_FAILURE_LIMIT;
}

/** Counts a failure in D1 (shared by every isolate) and drops windows older than the current one. */
export async function recordAuthFailure(env: Env, key: string, now = new Date()): Promise<void> {
  const db = database(env.DB);
  const window = windowKey(now);
  await db
    .insert(authFailures)
    .values({ ip: key, window, count: 1 })
    .onConflictDoUpdate({ target: [authFailures.ip, authFailures.window], set: { count: sql`${authFailures.count} + 1` } });
  await db.delete(authFailures).where(lt(authFailures.window, window));
}
