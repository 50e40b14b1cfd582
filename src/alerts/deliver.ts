/**
 * Sends pending alert deliveries: a POST to the group's webhook in its format, or an email through the
 * `send_email` binding. Bounded per call (each is a subrequest; see DELIVERIES_PER_EVENT in kinds.ts).
 * A failure is written on the delivery (attempts, last_error) and retried by a later evaluation after
 * a backoff, up to DELIVERY_MAX_ATTEMPTS; never thrown, since the data that raised the alert is stored.
 */
import { DELIVERY_MAX_ATTEMPTS, DELIVERY_TIMEOUT_MS, type AlertKind, type WebhookFormat } from './kinds';
import { alertText, emailSubject, webhookPayload, type AlertEvent, type AlertMessage } from './payloads';
import { iso } from './store';

interface PendingRow {
  delivery_id: number;
  channel: 'webhook' | 'email';
  event: AlertEvent;
  attempts: number;
  group_id: number | null;
  group_name: string | null;
  webhook: string | null;
  email: string | null;
  format: WebhookFormat | null;
  id: number;
  domain: string;
  kind: AlertKind;
  subject: string;
  severity: string;
  state: string;
  title: string;
  detail: string;
  opened_at: string;
  resolved_at: string | null;
}

export interface DispatchOutcome {
  sent: number;
  failed: number;
}

/** Backoff before retry n: 5, 10, 20 … minutes, at most 6 hours. */
function retryAt(now: Date, attempts: number): string {
  return iso(new Date(now.getTime() + Math.min(5 * 2 ** (attempts - 1), 360) * 60_000));
}

async function send(env: Env, row: PendingRow, alert: AlertMessage): Promise<void> {
  if (row.channel === 'webhook') {
    const response = await fetch(row.webhook!, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'User-Agent': 'MailCheck-Edge' },
      body: JSON.stringify(webhookPayload(row.format ?? 'json', alert, row.event, row.group_name ?? '')),
      signal: AbortSignal.timeout(DELIVERY_TIMEOUT_MS),
      // A redirect could send the alert somewhere the administrator never configured.
      redirect: 'manual',
    });
    // The body is not needed; reading it frees the connection.
    await response.body?.cancel();
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    return;
  }
  if (!env.NOTIFY_EMAIL || !env.NOTIFY_FROM) throw new Error('email is not configured (NOTIFY_FROM or the send_email binding)');
  await env.NOTIFY_EMAIL.send({ from: env.NOTIFY_FROM, to: row.email!, subject: emailSubject(alert, row.event), text: alertText(alert, row.event) });
}

/**
 * Sends up to `limit` due deliveries, oldest first: of the given domains' alerts, or of any (daily).
 */
export async function dispatchDeliveries(env: Env, options: { limit: number; domains?: string[]; now?: Date }): Promise<DispatchOutcome> {
  const now = options.now ?? new Date();
  const outcome: DispatchOutcome = { sent: 0, failed: 0 };
  const { results } = await env.DB.prepare(
    `SELECT del.id AS delivery_id, del.channel, del.event, del.attempts, g.id AS group_id, g.name AS group_name,
            g.notify_webhook AS webhook, g.notify_email AS email, s.webhook_format AS format,
            a.id, a.domain, a.kind, a.subject, a.severity, a.state, a.title, a.detail, a.opened_at, a.resolved_at
     FROM alert_deliveries del
     JOIN alerts a ON a.id = del.alert_id
     LEFT JOIN groups g ON g.id = del.group_id
     LEFT JOIN group_alert_settings s ON s.group_id = del.group_id
     WHERE del.state = 'pending' AND (del.next_attempt_at IS NULL OR del.next_attempt_at <= ?1)
       AND (?2 IS NULL OR a.domain IN (SELECT value FROM json_each(?2)))
     ORDER BY del.id LIMIT ?3`,
  )
    .bind(iso(now), options.domains ? JSON.stringify(options.domains) : null, options.limit)
    .all<PendingRow>();
  for (const row of results) {
    const target = row.channel === 'webhook' ? row.webhook : row.email;
    if (row.group_id === null || !target) {
      // The group or its channel went away: nothing to send to, and nothing to retry.
      await env.DB.prepare(`UPDATE alert_deliveries SET state = 'skipped', last_error = ?2 WHERE id = ?1`)
        .bind(row.delivery_id, row.group_id === null ? 'the group was deleted' : `the group has no ${row.channel} any more`)
        .run();
      continue;
    }
    const alert: AlertMessage = { ...row, detail: JSON.parse(row.detail) as Record<string, unknown> };
    const attempts = row.attempts + 1;
    try {
      await send(env, row, alert);
      await env.DB.prepare(`UPDATE alert_deliveries SET state = 'sent', attempts = ?2, last_error = NULL, sent_at = ?3, next_attempt_at = NULL WHERE id = ?1`)
        .bind(row.delivery_id, attempts, iso(now))
        .run();
      outcome.sent++;
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      const gaveUp = attempts >= DELIVERY_MAX_ATTEMPTS;
      await env.DB.prepare(`UPDATE alert_deliveries SET state = ?2, attempts = ?3, last_error = ?4, next_attempt_at = ?5 WHERE id = ?1`)
        .bind(row.delivery_id, gaveUp ? 'failed' : 'pending', attempts, message.slice(0, 500), gaveUp ? null : retryAt(now, attempts))
        .run();
      console.error(`alert ${row.id}: ${row.channel} delivery to group ${row.group_id} failed (attempt ${attempts})`, message);
      outcome.failed++;
    }
  }
  return outcome;
}
