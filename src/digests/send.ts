/**
 * Sends the weekly digests (docs/digests.md), called by the daily cron. Idempotent: a group's digest
 * for a week is claimed in digest_deliveries (primary key group and week) before the email goes out,
 * so a re-run of the cron, or two runs at once, send it once.
 *
 * Bounded: one invocation builds at most MAX_DIGESTS_PER_RUN digests, each a fixed DIGEST_QUERIES D1
 * queries plus the claim, the outcome and one send_email call, so a run stays near 400 D1 queries and
 * 25 emails, well inside the 1,000 subrequests of an invocation that also schedules the monitors and
 * snapshots metrics. Monday's daily run starts a week; when more groups are due than one run may build,
 * the half-hourly cron continues the week Monday began (25 every 30 minutes, ~1,200 groups a day), and
 * so do the following days' daily runs.
 */
import { sql } from 'drizzle-orm';
import { database } from '../db/client';
import { buildDigest } from './build';
import { renderDigestEmail } from './render';
import { previousWeek } from './week';

export const MAX_DIGESTS_PER_RUN = 25;
/** Sends that threw are retried on later runs up to this many attempts in all. */
export const MAX_ATTEMPTS = 3;
/**
 * A failed send waits this long before it is tried again: the half-hourly cron runs too, and without
 * a wait a send_email outage of an hour would use up every attempt of the week.
 */
export const RETRY_AFTER_HOURS = 6;

export interface DigestRun {
  week: string;
  sent: number;
  failed: number;
  /** Groups still due after this run (picked up by the next run). */
  remaining: number;
}

export interface DigestRunOptions {
  /**
   * May this run start a week (true on the daily cron)? The half-hourly cron only continues one: on
   * Monday it would otherwise start at 00:00, before the reports about Sunday have arrived.
   */
  mayStart?: boolean;
}

/** Never throws: the crons run other work after it. */
export async function sendWeeklyDigests(env: Env, now: Date, options: DigestRunOptions = {}): Promise<DigestRun | null> {
  try {
    return await sendDueDigests(env, now, options);
  } catch (error) {
    console.error('weekly digests:', error);
    return null;
  }
}

export async function sendDueDigests(env: Env, now: Date, { mayStart = true }: DigestRunOptions = {}): Promise<DigestRun> {
  const week = previousWeek(now);
  const run: DigestRun = { week: week.week, sent: 0, failed: 0, remaining: 0 };
  // Without a sender address there is nothing to send; the digests are still in the API and the UI.
  if (!env.NOTIFY_EMAIL || !env.NOTIFY_FROM) return run;
  const db = database(env.DB);
  const starts = mayStart && new Date(now).getUTCDay() === 1;
  if (!starts) {
    const started = await db.get<{ n: number }>(sql`SELECT count(*) AS n FROM digest_deliveries WHERE week = ${week.week}`);
    if (!started?.n) return run;
  }
  const claimedAt = `${now.toISOString().slice(0, 19)}Z`;
  const retryBefore = `${new Date(now.getTime() - RETRY_AFTER_HOURS * 3_600_000).toISOString().slice(0, 19)}Z`;
  // Groups with an address and at least one domain, existing before the week ended, not yet sent.
  const due = await db.all<{ id: number; email: string; due: number }>(sql`
    SELECT g.id, g.notify_email AS email, count(*) OVER () AS due FROM groups g
    LEFT JOIN digest_deliveries dd ON dd.group_id = g.id AND dd.week = ${week.week}
    WHERE g.notify_email IS NOT NULL AND g.created_at < ${`${week.to}T24`}
      AND EXISTS (SELECT 1 FROM group_domains gd WHERE gd.group_id = g.id)
      AND (dd.group_id IS NULL OR (dd.status = 'failed' AND dd.attempts < ${MAX_ATTEMPTS} AND dd.claimed_at < ${retryBefore}))
    ORDER BY g.id LIMIT ${MAX_DIGESTS_PER_RUN}`);
  run.remaining = Math.max(0, (due[0]?.due ?? 0) - due.length);
  for (const group of due) {
    // The claim: a new row, or a failed one taken again; a row another run holds is left alone.
    const claim = await env.DB.prepare(
      `INSERT INTO digest_deliveries (group_id, week, status, recipient, claimed_at) VALUES (?, ?, 'sending', ?, ?)
       ON CONFLICT (group_id, week) DO UPDATE SET status = 'sending', attempts = attempts + 1, recipient = excluded.recipient,
         claimed_at = excluded.claimed_at, error = NULL
       WHERE digest_deliveries.status = 'failed' AND digest_deliveries.attempts < ? AND digest_deliveries.claimed_at < ?`,
    )
      .bind(group.id, week.week, group.email, claimedAt, MAX_ATTEMPTS, retryBefore)
      .run();
    if (claim.meta.changes !== 1) continue;
    try {
      const digest = await buildDigest(env.DB, group.id, week);
      if (!digest) throw new Error('group deleted');
      const email = renderDigestEmail(digest);
      await env.NOTIFY_EMAIL.send({ from: env.NOTIFY_FROM, to: group.email, subject: email.subject, text: email.text, html: email.html });
      await db.run(sql`UPDATE digest_deliveries SET status = 'sent', sent_at = ${`${new Date().toISOString().slice(0, 19)}Z`} WHERE group_id = ${group.id} AND week = ${week.week}`);
      run.sent++;
    } catch (error) {
      console.error(`digest ${week.week} for group ${group.id}:`, error);
      await db.run(sql`UPDATE digest_deliveries SET status = 'failed', error = ${String(error).slice(0, 500)} WHERE group_id = ${group.id} AND week = ${week.week}`);
      run.failed++;
    }
  }
  return run;
}
