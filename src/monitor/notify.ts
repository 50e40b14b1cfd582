import { sql } from 'drizzle-orm';
import type { WebhookFormat } from '../alerts/kinds';
import { chatPayload } from '../alerts/payloads';
import { database } from '../db/client';
import type { CheckChange } from '../dns/diff-checks';

export interface NotifyOutcome {
  webhooks: number;
  emails: number;
  errors: string[];
}

export type NoticeChannel = 'webhook' | 'email';

export interface NoticeRecipient {
  groupId: number;
  group: string;
  webhook: string | null;
  email: string | null;
  /** The group's alert webhook format (docs/alerts.md): a Slack or Teams webhook gets the same notice in its shape. */
  format: WebhookFormat | null;
}

/** Webhooks and email get the same time-out as alerts: a slow endpoint must not hold the check. */
const WEBHOOK_TIMEOUT_MS = 10_000;

/** Groups that own the domain (or a parent of it) and asked to be told. */
async function recipients(d1: D1Database, domain: string): Promise<NoticeRecipient[]> {
  return database(d1).all<NoticeRecipient>(sql`SELECT DISTINCT g.id AS "groupId", g.name AS "group", g.notify_webhook AS webhook, g.notify_email AS email, s.webhook_format AS format
    FROM groups g JOIN group_domains gd ON gd.group_id = g.id JOIN domains d ON d.id = gd.domain_id
    LEFT JOIN group_alert_settings s ON s.group_id = g.id
    WHERE (d.name = ${domain} OR substr(${domain}, -length(d.name) - 1) = '.' || d.name)
      AND (g.notify_webhook IS NOT NULL OR g.notify_email IS NOT NULL)`);
}

function describe(change: CheckChange): string {
  const area = change.area.replace('_', '-').toUpperCase();
  if (change.kind === 'record-changed') {
    return `${area} record changed\n  before: ${String(change.detail.before ?? '(none)')}\n  after:  ${String(change.detail.after ?? '(none)')}`;
  }
  const verb = change.kind === 'finding-appeared' ? 'New' : 'Cleared';
  const advice = change.kind === 'finding-appeared' && change.detail.advice ? `\n  what to do: ${String(change.detail.advice)}` : '';
  return `${verb} ${String(change.detail.severity)} (${change.finding_id}): ${String(change.detail.title)}${advice}`;
}

/** Whether the channel can be used: a webhook address, or an email address and the Worker's `send_email` set-up. */
export function channelReady(env: Env, r: NoticeRecipient, channel: NoticeChannel): boolean {
  return channel === 'webhook' ? !!r.webhook : !!(r.email && env.NOTIFY_EMAIL && env.NOTIFY_FROM);
}

/** Sends one notice on one channel; throws when it did not go (HTTP status, network, the email binding). */
export async function sendNotice(env: Env, r: NoticeRecipient, channel: NoticeChannel, domain: string, changes: CheckChange[]): Promise<void> {
  const subject = `MailCheck: ${domain} changed`;
  const text = `MailCheck Edge noticed changes for ${domain}:\n\n${changes.map(describe).join('\n\n')}\n`;
  if (channel === 'email') {
    await env.NOTIFY_EMAIL!.send({ from: env.NOTIFY_FROM!, to: r.email!, subject, text });
    return;
  }
  const response = await fetch(r.webhook!, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'User-Agent': 'MailCheck-Edge' },
    body: JSON.stringify(chatPayload(r.format ?? 'json', subject, text) ?? { domain, group: r.group, changes, text }),
    signal: AbortSignal.timeout(WEBHOOK_TIMEOUT_MS),
    // A redirect could send the notice somewhere the administrator never configured.
    redirect: 'manual',
  });
  // The body is not needed; reading it frees the connection.
  await response.body?.cancel();
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
}

/**
 * Tells each owning group what changed: a JSON POST to its webhook and, where the Worker has the
 * `send_email` binding, a plain-text email. A failure is reported and kept in notice_retries for the
 * half-hourly cron to send again (src/monitor/notice-retries.ts), never thrown: the check itself is
 * already stored.
 */
export async function notifyChanges(env: Env, domain: string, changes: CheckChange[], now = new Date()): Promise<NotifyOutcome> {
  const outcome: NotifyOutcome = { webhooks: 0, emails: 0, errors: [] };
  if (changes.length === 0) return outcome;
  for (const r of await recipients(env.DB, domain)) {
    for (const channel of ['webhook', 'email'] as const) {
      if (!channelReady(env, r, channel)) continue;
      try {
        await sendNotice(env, r, channel, domain, changes);
        if (channel === 'webhook') outcome.webhooks++;
        else outcome.emails++;
      } catch (error) {
        outcome.errors.push(`${channel === 'webhook' ? 'webhook of' : 'email to'} ${r.group}: ${String(error)}`);
        try {
          await queueNoticeRetry(env.DB, { groupId: r.groupId, domain, channel, changes, error, now });
        } catch (stored) {
          outcome.errors.push(`could not keep the notice for a retry: ${String(stored)}`);
        }
      }
    }
  }
  return outcome;
}

/** Retry n waits 30 min × 2^(n−1), at most 12 hours; the half-hourly cron picks it up. */
export function noticeRetryAt(now: Date, attempts: number): string {
  return `${new Date(now.getTime() + Math.min(30 * 2 ** (attempts - 1), 720) * 60_000).toISOString().slice(0, 19)}Z`;
}

async function queueNoticeRetry(d1: D1Database, n: { groupId: number; domain: string; channel: NoticeChannel; changes: CheckChange[]; error: unknown; now: Date }) {
  await database(d1).run(sql`INSERT INTO notice_retries (group_id, domain, channel, changes, attempts, next_attempt_at, last_error)
    VALUES (${n.groupId}, ${n.domain}, ${n.channel}, ${JSON.stringify(n.changes)}, 1, ${noticeRetryAt(n.now, 1)}, ${String(n.error).slice(0, 500)})`);
}
