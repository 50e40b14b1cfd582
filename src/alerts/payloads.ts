/**
 * What a webhook receives, per the group's chosen format, and the email text. Pure.
 *
 * - json: our own shape, `{type, event, group, alert: {...}, text}`;
 * - slack: an incoming-webhook message, `{text, blocks}` (mrkdwn);
 * - teams: a Teams Workflows ("When a Teams webhook request is received") message carrying an Adaptive
 *   Card; the Office 365 connector MessageCard is retired, Workflows take this shape.
 */
import { KIND_TITLES, type AlertKind, type WebhookFormat } from './kinds';

export interface AlertMessage {
  id: number;
  domain: string;
  kind: AlertKind;
  subject: string;
  severity: string;
  state: string;
  title: string;
  detail: Record<string, unknown>;
  opened_at: string;
  resolved_at: string | null;
}

export type AlertEvent = 'opened' | 'resolved';

function headline(alert: AlertMessage, event: AlertEvent): string {
  return event === 'resolved' ? `Resolved: ${alert.domain}: ${alert.title}` : `${alert.domain}: ${alert.title}`;
}

function body(alert: AlertMessage, event: AlertEvent): string {
  const message = typeof alert.detail.message === 'string' ? alert.detail.message : '';
  const because = event === 'resolved' && typeof alert.detail.resolved_because === 'string' ? ` ${alert.detail.resolved_because}` : '';
  return event === 'resolved' ? `This alert has cleared.${because}` : message;
}

/** Plain text, for email and the `text` of every webhook format. */
export function alertText(alert: AlertMessage, event: AlertEvent): string {
  return [
    headline(alert, event),
    '',
    body(alert, event),
    '',
    `Kind: ${KIND_TITLES[alert.kind]} (${alert.kind}), severity ${alert.severity}, opened ${alert.opened_at}.`,
    `Alert ${alert.id} in MailCheck Edge: /alerts (GET /api/alerts/${alert.id}).`,
  ].join('\n');
}

export function emailSubject(alert: AlertMessage, event: AlertEvent): string {
  return `MailCheck alert: ${headline(alert, event)}`;
}

/**
 * A plain message (the change notifications of docs/monitoring.md) in a chat format, so a group whose
 * webhook is Slack or Teams can take them too. `null` for json: those keep their own shape.
 */
export function chatPayload(format: WebhookFormat, title: string, text: string): unknown {
  if (format === 'slack') return { text: title, blocks: [{ type: 'section', text: { type: 'mrkdwn', text: text.slice(0, 3000) } }] };
  if (format === 'teams') {
    return {
      type: 'message',
      attachments: [
        {
          contentType: 'application/vnd.microsoft.card.adaptive',
          contentUrl: null,
          content: { $schema: 'http://adaptivecards.io/schemas/adaptive-card.json', type: 'AdaptiveCard', version: '1.4', body: [{ type: 'TextBlock', weight: 'Bolder', wrap: true, text: title }, { type: 'TextBlock', wrap: true, text }] },
        },
      ],
    };
  }
  return null;
}

export function webhookPayload(format: WebhookFormat, alert: AlertMessage, event: AlertEvent, group: string): unknown {
  const text = alertText(alert, event);
  if (format === 'slack') {
    return {
      text: headline(alert, event),
      blocks: [
        { type: 'header', text: { type: 'plain_text', text: headline(alert, event).slice(0, 150) } },
        { type: 'section', text: { type: 'mrkdwn', text: body(alert, event) || alert.title } },
        { type: 'context', elements: [{ type: 'mrkdwn', text: `${alert.kind} · ${alert.severity} · alert ${alert.id} · ${group}` }] },
      ],
    };
  }
  if (format === 'teams') {
    return {
      type: 'message',
      attachments: [
        {
          contentType: 'application/vnd.microsoft.card.adaptive',
          contentUrl: null,
          content: {
            $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
            type: 'AdaptiveCard',
            version: '1.4',
            body: [
              { type: 'TextBlock', size: 'Medium', weight: 'Bolder', wrap: true, text: headline(alert, event), color: event === 'resolved' ? 'Good' : alert.severity === 'error' ? 'Attention' : 'Warning' },
              { type: 'TextBlock', wrap: true, text: body(alert, event) || alert.title },
              {
                type: 'FactSet',
                facts: [
                  { title: 'Domain', value: alert.domain },
                  { title: 'Kind', value: alert.kind },
                  { title: 'Severity', value: alert.severity },
                  { title: 'Alert', value: String(alert.id) },
                ],
              },
            ],
          },
        },
      ],
    };
  }
  return {
    type: 'mailcheck.alert',
    event,
    group,
    alert: {
      id: alert.id,
      domain: alert.domain,
      kind: alert.kind,
      subject: alert.subject,
      severity: alert.severity,
      state: alert.state,
      title: alert.title,
      detail: alert.detail,
      opened_at: alert.opened_at,
      resolved_at: alert.resolved_at,
    },
    text,
  };
}
