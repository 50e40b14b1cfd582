/**
 * Sends again the change notices whose delivery failed (src/monitor/notify.ts keeps them in
 * notice_retries), from the half-hourly cron. Bounded: at most NOTICES_PER_RUN sends per run, each one
 * subrequest. A notice goes to the group's address and format as they are now, so fixing a broken
 * webhook delivers what it missed; a group that no longer has the channel, no longer owns the domain or
 * no longer exists drops it.
 */
import { sql } from 'drizzle-orm';
import { database } from '../db/client';
import type { CheckChange } from '../dns/diff-checks';
import { channelReady, type NoticeChannel, type NoticeRecipient, noticeRetryAt, sendNotice } from './notify';

/** Attempts in all, the first included: the last retry is ~7.5 hours after the change. */
export const NOTICE_MAX_ATTEMPTS = 5;
export const NOTICES_PER_RUN = 25;
/** Notices that were never delivered stay visible this long, then go. */
const FAILED_KEPT_DAYS = 30;

export interface NoticeRetryRun {
  sent: number;
  /** Failed again; retried later. */
  failed: number;
  /** Failed for the last time: left `failed`. */
  gaveUp: number;
  /** The group no longer has the channel, or no longer exists. */
  dropped: number;
}

interface DueRow extends NoticeRecipient {
  id: number;
  domain: string;
  channel: NoticeChannel;
  changes: string;
  attempts: number;
  /** The group still owns the domain (or a parent of it), as when the notice was first sent. */
  owns: number;
}

const iso = (d: Date) => `${d.toISOString().slice(0, 19)}Z`;

export async function retryNotices(env: Env, now = new Date()): Promise<NoticeRetryRun> {
  const db = database(env.DB);
  const run: NoticeRetryRun = { sent: 0, failed: 0, gaveUp: 0, dropped: 0 };
  const due = await db.all<DueRow>(sql`SELECT n.id, n.domain, n.channel, n.changes, n.attempts, n.group_id AS "groupId",
      g.name AS "group", g.notify_webhook AS webhook, g.notify_email AS email, s.webhook_format AS format,
      EXISTS (SELECT 1 FROM group_domains gd JOIN domains d ON d.id = gd.domain_id WHERE gd.group_id = n.group_id
        AND (d.name = n.domain OR substr(n.domain, -length(d.name) - 1) = '.' || d.name)) AS owns
    FROM notice_retries n LEFT JOIN groups g ON g.id = n.group_id LEFT JOIN group_alert_settings s ON s.group_id = n.group_id
    WHERE n.state = 'pending' AND n.next_attempt_at <= ${iso(now)}
    ORDER BY n.next_attempt_at LIMIT ${NOTICES_PER_RUN}`);
  for (const row of due) {
    if (row.group === null || !row.owns || !channelReady(env, row, row.channel)) {
      await db.run(sql`DELETE FROM notice_retries WHERE id = ${row.id}`);
      run.dropped++;
      continue;
    }
    let sent = false;
    try {
      await sendNotice(env, row, row.channel, row.domain, JSON.parse(row.changes) as CheckChange[]);
      sent = true;
    } catch (error) {
      const attempts = row.attempts + 1;
      const last = attempts >= NOTICE_MAX_ATTEMPTS;
      await db.run(sql`UPDATE notice_retries SET attempts = ${attempts}, last_error = ${String(error).slice(0, 500)},
        state = ${last ? 'failed' : 'pending'}, next_attempt_at = ${last ? iso(now) : noticeRetryAt(now, attempts)} WHERE id = ${row.id}`);
      if (last) {
        run.gaveUp++;
        console.error(`change notice ${row.id} for ${row.domain} (${row.channel} of ${row.group}) not delivered after ${attempts} attempts: ${String(error)}`);
      } else {
        run.failed++;
      }
    }
    // Outside the try: a failure to delete must not count a sent notice as failed and send it again.
    if (sent) {
      await db.run(sql`DELETE FROM notice_retries WHERE id = ${row.id}`);
      run.sent++;
    }
  }
  await db.run(sql`DELETE FROM notice_retries WHERE state = 'failed' AND created_at < ${iso(new Date(now.getTime() - FAILED_KEPT_DAYS * 86_400_000))}`);
  return run;
}

/** Never throws: the half-hourly cron runs other work after it. */
export async function retryFailedNotices(env: Env, now: Date): Promise<NoticeRetryRun | null> {
  try {
    return await retryNotices(env, now);
  } catch (error) {
    console.error('change notice retries:', error);
    return null;
  }
}
