/**
 * Alerts (docs/alerts.md): the open alerts of the caller's domains with a button to acknowledge each
 * (post-redirect-get), other states on request, and for administrators which alerts each group wants
 * on its webhook and by email (the group's notification settings, PUT /api/admin/groups/:id/notifications).
 *
 *   GET  /alerts?state=open|acknowledged|resolved|all&domain=&cursor=&group=
 *   POST /alerts/:id/acknowledge            → /alerts?notice=acknowledged
 *   POST /alerts/preferences/:groupId       → /alerts?group=…&notice=preferences-saved#preferences
 */
import { Hono } from 'hono';
import { ALERT_KINDS, KIND_TITLES, WEBHOOK_FORMATS, type AlertKind, type WebhookFormat } from '../../alerts/kinds';
import { apiCall, apiJson, ApiError, currentUser, isAdmin, query, type Me, type UiContext, type UiEnv } from '../api-call';
import { Notice } from '../components/notice';
import { Tag, type Tone } from '../components/tag';
import { page } from '../layout';
import { field, fieldList, formFields, NextPage, timeOrDash } from './admin/common';

interface Alert {
  id: number;
  domain: string;
  kind: AlertKind;
  state: 'open' | 'acknowledged' | 'resolved';
  severity: 'error' | 'warning' | 'info';
  title: string;
  message: string;
  opened_at: string;
  acknowledged_at: string | null;
  acknowledged_by: string | null;
  resolved_at: string | null;
}

interface Settings {
  id: number;
  webhook: string | null;
  email: string | null;
  webhook_format: WebhookFormat;
  alerts: { webhook: AlertKind[]; email: AlertKind[] };
}

const STATES = [
  ['open', 'Open'],
  ['acknowledged', 'Acknowledged'],
  ['resolved', 'Resolved'],
  ['all', 'All'],
] as const;

const SEVERITY_TAGS: Record<Alert['severity'], [string, Tone]> = { error: ['Error', 'bad'], warning: ['Warning', 'warn'], info: ['Info', 'info'] };
const FORMATS: Record<WebhookFormat, string> = { json: 'JSON (MailCheck shape)', slack: 'Slack incoming webhook', teams: 'Microsoft Teams (Workflows)' };

const NOTICES: Record<string, string> = {
  acknowledged: 'Alert acknowledged. It stays listed until its cause goes.',
  'preferences-saved': 'Alert preferences saved.',
};

function AlertTable(props: { alerts: Alert[]; state: string }) {
  if (props.alerts.length === 0) return <p>{props.state === 'open' ? 'No open alerts. Nothing needs you right now.' : 'No alerts here.'}</p>;
  return (
    <div class="table-wrap">
      <table class="stack" id="alerts-table">
        <caption class="visually-hidden">Alerts</caption>
        <thead>
          <tr>
            <th scope="col">Severity</th>
            <th scope="col">Domain</th>
            <th scope="col">Alert</th>
            <th scope="col">Opened</th>
            <th scope="col">State</th>
            <th scope="col">
              <span class="visually-hidden">Action</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {props.alerts.map((a) => (
            <tr>
              <td data-label="Severity">
                <Tag tone={SEVERITY_TAGS[a.severity][1]}>{SEVERITY_TAGS[a.severity][0]}</Tag>
              </td>
              <td data-label="Domain">
                <a href={`/domains/${encodeURIComponent(a.domain)}`}>{a.domain}</a>
              </td>
              <td data-label="Alert">
                <strong>{a.title}</strong>
                <p class="hint">{a.message}</p>
              </td>
              <td data-label="Opened">{timeOrDash(a.opened_at)}</td>
              <td data-label="State">
                {a.state === 'acknowledged' ? `Acknowledged ${timeOrDash(a.acknowledged_at)}${a.acknowledged_by ? ` by ${a.acknowledged_by}` : ''}` : a.state === 'resolved' ? `Resolved ${timeOrDash(a.resolved_at)}` : 'Open'}
              </td>
              <td data-label="Action">
                {a.state === 'open' ? (
                  <form method="post" action={`/alerts/${a.id}/acknowledge`} class="inline-form">
                    <button type="submit" class="button button--secondary" aria-label={`Acknowledge: ${a.domain}, ${a.title}`}>
                      Acknowledge
                    </button>
                  </form>
                ) : null}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function KindBoxes(props: { channel: 'webhook' | 'email'; chosen: AlertKind[]; legend: string }) {
  return (
    <fieldset class="field">
      <legend>{props.legend}</legend>
      {ALERT_KINDS.map((kind) => (
        <div class="checkbox">
          <input type="checkbox" id={`${props.channel}-${kind}`} name={`${props.channel}_kinds`} value={kind} checked={props.chosen.includes(kind)} />
          <label for={`${props.channel}-${kind}`}>{KIND_TITLES[kind]}</label>
        </div>
      ))}
    </fieldset>
  );
}

interface PreferencesData {
  groups: { id: number; name: string }[];
  group: { id: number; name: string };
  settings: Settings;
}

async function preferencesData(c: UiContext): Promise<PreferencesData | null> {
  const groups = await apiJson<{ items: { id: number; name: string }[] }>(c, '/api/admin/groups?limit=500');
  const wanted = Number(c.req.query('group'));
  const group = groups.items.find((g) => g.id === wanted) ?? groups.items[0];
  if (!group) return null;
  const settings = await apiJson<Settings>(c, `/api/admin/groups/${group.id}/notifications`);
  return { groups: groups.items, group, settings };
}

function Preferences(props: { data: PreferencesData | null }) {
  if (!props.data) return <p>No groups yet.</p>;
  const { groups, group, settings } = props.data;
  return (
    <>
      <form method="get" action="/alerts#preferences" class="filters" aria-label="Choose a group">
        <div class="field">
          <label for="group">Group</label>
          <select id="group" name="group">
            {groups.map((g) => (
              <option value={String(g.id)} selected={g.id === group.id}>
                {g.name}
              </option>
            ))}
          </select>
        </div>
        <div class="field">
          <button type="submit" class="button button--secondary">
            Show
          </button>
        </div>
      </form>
      <p>
        {group.name} hears of alerts at {settings.webhook ? <span class="mono">{settings.webhook}</span> : 'no webhook'} and {settings.email ? <span class="mono">{settings.email}</span> : 'no email address'}{' '}
        (set them on <a href={`/admin/groups/${group.id}#notifications`}>the group's page</a>). Alerts are listed here whatever is chosen below.
      </p>
      <form method="post" action={`/alerts/preferences/${group.id}`}>
        <div class="field">
          <label for="webhook-format">Webhook format</label>
          <select id="webhook-format" name="webhook_format">
            {WEBHOOK_FORMATS.map((f) => (
              <option value={f} selected={settings.webhook_format === f}>
                {FORMATS[f]}
              </option>
            ))}
          </select>
        </div>
        <KindBoxes channel="webhook" chosen={settings.alerts.webhook} legend="Send to the webhook" />
        <KindBoxes channel="email" chosen={settings.alerts.email} legend="Send by email" />
        <button type="submit" class="button">
          Save alert preferences
        </button>
      </form>
    </>
  );
}

async function alertsPage(c: UiContext, me: Me) {
  const state = STATES.some(([s]) => s === c.req.query('state')) ? c.req.query('state')! : 'open';
  const domain = c.req.query('domain') ?? '';
  const list = await apiJson<{ items: Alert[]; next_cursor: string | null }>(c, `/api/alerts${query({ state: state === 'all' ? undefined : state, domain, cursor: c.req.query('cursor'), limit: 50 })}`);
  const notice = NOTICES[c.req.query('notice') ?? ''];
  const preferences = isAdmin(me) ? await preferencesData(c) : null;
  return page(
    c,
    { title: 'Alerts', active: 'alerts', me },
    <>
      <h1>Alerts</h1>
      <p class="lede">What changed or broke on your domains and needs a look. Each alert clears by itself when its cause goes; acknowledge one to say someone is on it.</p>
      {notice ? <Notice tone="success" title={notice} /> : null}
      <form method="get" action="/alerts" class="filters" aria-label="Filter alerts">
        <div class="field">
          <label for="state">State</label>
          <select id="state" name="state">
            {STATES.map(([value, label]) => (
              <option value={value} selected={state === value}>
                {label}
              </option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for="domain">Domain</label>
          <input type="search" id="domain" name="domain" value={domain} autocomplete="off" spellcheck={false} />
        </div>
        <div class="field">
          <button type="submit" class="button">
            Apply
          </button>{' '}
          <a href="/alerts">Clear</a>
        </div>
      </form>
      <AlertTable alerts={list.items} state={state} />
      <NextPage c={c} next={list.next_cursor} label="alerts" />
      {isAdmin(me) ? (
        <section aria-labelledby="preferences">
          <h2 id="preferences">Which alerts each group is sent</h2>
          <Preferences data={preferences} />
        </section>
      ) : null}
    </>,
  );
}

export const alertsRoutes = new Hono<UiEnv>()
  .get('/alerts', async (c) => alertsPage(c, await currentUser(c)))
  .post('/alerts/:id{[0-9]+}/acknowledge', async (c) => {
    const result = await apiCall(c, `/api/alerts/${c.req.param('id')}/acknowledge`, { method: 'POST' });
    // Resolved meanwhile (409): nothing to acknowledge, the list shows it gone.
    if (!result.ok && result.status !== 409) throw new ApiError(result.status, result.problem);
    return c.redirect(`/alerts${query({ notice: result.ok ? 'acknowledged' : undefined })}`, 303);
  })
  .post('/alerts/preferences/:id{[0-9]+}', async (c) => {
    const id = c.req.param('id');
    // The webhook and address are required in the PUT: send back the ones in force.
    const current = await apiCall<Settings>(c, `/api/admin/groups/${id}/notifications`);
    if (!current.ok) throw new ApiError(current.status, current.problem);
    const fields = await formFields(c);
    const kinds = (name: string) => fieldList(fields, name).filter((k): k is AlertKind => (ALERT_KINDS as readonly string[]).includes(k));
    const format = field(fields, 'webhook_format');
    const result = await apiCall(c, `/api/admin/groups/${id}/notifications`, {
      method: 'PUT',
      body: {
        webhook: current.data.webhook,
        email: current.data.email,
        webhook_format: (WEBHOOK_FORMATS as readonly string[]).includes(format) ? format : current.data.webhook_format,
        alerts: { webhook: kinds('webhook_kinds'), email: kinds('email_kinds') },
      },
    });
    if (!result.ok) throw new ApiError(result.status, result.problem);
    return c.redirect(`/alerts${query({ group: id, notice: 'preferences-saved' })}#preferences`, 303);
  });
