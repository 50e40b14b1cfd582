import { sql } from 'drizzle-orm';
import { database } from '../db/client';
import type { WebhookFormat } from '../alerts/kinds';
import { chatPayload } from '../alerts/payloads';
import type { CheckChange } from '../dns/diff-checks';

export interface NotifyOutcome {
  webhooks: number;
  emails: number;
  errors: string[];
}

interface Recipient {
  group: string;
  webhook: string | null;
  email: string | null;
  /** The group's alert webhook format (docs/alerts.md): a Slack or Teams webhook gets the same notice in its shape. */
  format: WebhookFormat | null;
}

/** Groups that own the domain (or a parent of it) and asked to be told. */
async function recipients(d1: D1Database, domain: string): Promise<Recipient[]> {
  return database(d1).all<Recipient>(sql`SELECT DISTINCT g.name AS "group", g.notify_webhook AS webhook, g.notify_email AS email, s.webhook_format AS format
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

/**
 * Tells each owning group what changed: a JSON POST to its webhook and, where the Worker has the
 * `send_email` binding, a plain-text email. A failure to notify is reported, never thrown: the
 * check itself is already stored.
 */
export async function notifyChanges(env: Env, domain: string, changes: CheckChange[]): Promise<NotifyOutcome> {
  const outcome: NotifyOutcome = { webhooks: 0, emails: 0, errors: [] };
  if (changes.length === 0) return outcome;
  const text = `MailCheck Edge noticed changes for ${domain}:\n\n${changes.map(describe).join('\n\n')}\n`;
  for (const r of await recipients(env.DB, domain)) {
    if (r.webhook) {
      try {
        const response = await fetch(r.webhook, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', 'User-Agent': 'MailCheck-Edge' },
          body: JSON.stringify(chatPayload(r.format ?? 'json', `MailCheck: ${domain} changed`, text) ?? { domain, group: r.group, changes, text }),
          signal: AbortSignal.timeout(10_000),
          // A redirect could send the notice somewhere the administrator never configured.
          redirect: 'manual',
        });
        if (response.ok) outcome.webhooks++;
        else outcome.errors.push(`webhook of ${r.group}: HTTP ${response.status}`);
      } catch (error) {
        outcome.errors.push(`webhook of ${r.group}: ${String(error)}`);
      }
    }
    if (r.email && env.NOTIFY_EMAIL && env.NOTIFY_FROM) {
      try {
        await env.NOTIFY_EMAIL.send({ from: env.NOTIFY_FROM, to: r.email, subject: `MailCheck: ${domain} changed`, text });
        outcome.emails++;
      } catch (error) {
        outcome.errors.push(`email to ${r.group}: ${String(error)}`);
      }
    }
  }
  return outcome;
}
