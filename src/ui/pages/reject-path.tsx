/**
 * The path to p=reject for one domain (docs/reject-path.md), from
 * GET /api/aggregatereport/{domain}/reject-path: who still fails DMARC and why, what quarantine and
 * reject would affect, and the next step with the record to publish and the conditions for it.
 *
 *   GET /domains/:domain/reject-path?to=YYYY-MM-DD
 */
import { Hono } from 'hono';
// The API's answer is the core's RejectPath as JSON: one type for both, so the page cannot drift from it.
import type { Category, RejectPath } from '../../stats/reject-path';
import { apiJson, currentUser, query, type UiContext, type UiEnv } from '../api-call';
import { Tag, type Tone } from '../components/tag';
import { page } from '../layout';
import { count, dayText, percent } from './reports/format';
import { Breadcrumbs, domainTrail } from '../components/breadcrumbs';

const CATEGORY: Record<Category, [label: string, tone: Tone, advice: string]> = {
  legitimate: ['Legitimate', 'bad', 'Your own servers and known services: fix their DKIM signing or SPF alignment before enforcing.'],
  forwarded: ['Forwarded', 'warn', 'Mail forwarded or sent through mailing lists: SPF breaks on the way; DKIM signing keeps most of it passing.'],
  unknown: ['Spoofing or unknown', 'info', 'Senders nobody could identify: mostly spoofing, which enforcement stops. Check none of them is yours.'],
};

const REASONS: Record<string, string> = {
  'receiver-override': 'Receivers reported it as forwarded or a mailing list',
  'own-infrastructure': 'Its name is in your own domain',
  'known-service': 'A known sending service',
  'dkim-survived': 'Relays your DKIM-signed mail intact but never passes SPF: a forwarder',
  'network-operator': 'An ISP, web host or cloud address: anyone could send from it',
  'unmapped-name': 'A confirmed name that no service list knows',
  'no-identity': 'No reverse DNS name, or one that does not confirm',
  'not-looked-up': 'Reverse DNS not looked up yet',
};

const policyText = (p: string | null, pct: number) => (p === null ? 'No policy' : `p=${p}${pct < 100 ? `; pct=${pct}` : ''}`);

function NextStep(props: { path: RejectPath }) {
  const { next_step: next, current } = props.path;
  if (next.step === null) {
    return (
      <div class="notice notice--success">
        <p>
          <Tag tone="good">p=reject</Tag> This domain is at <code>p=reject</code>: receivers refuse mail that fails DMARC. Keep watching for legitimate senders that fail.
        </p>
      </div>
    );
  }
  const target = policyText(next.step.p, next.step.pct);
  return (
    <div class={next.ready ? 'notice notice--success' : 'notice'}>
      <p>
        {next.ready ? <Tag tone="good">Ready</Tag> : <Tag tone="warn">Not yet</Tag>}{' '}
        {current.source === 'none' ? 'Publish a DMARC record first' : `Next step: ${target}`}
        {current.source !== 'none' ? ` (now ${policyText(current.p, current.pct)}${current.since ? `, shown in reports since ${dayText(current.since)}` : ''})` : null}
      </p>
      <p>{next.ready ? 'Publish this TXT record at' : 'Once the conditions below are met, publish this TXT record at'} <code>_dmarc.{props.path.domain}</code>:</p>
      <pre data-record>{next.record}</pre>
      <h3>Conditions</h3>
      <ul class="conditions">
        {next.conditions.map((c) => (
          <li data-condition={c.id}>
            {c.met ? <Tag tone="good">Met</Tag> : <Tag tone="bad">Not met</Tag>} {c.text}
          </li>
        ))}
      </ul>
      {next.notes.length > 0 ? (
        <>
          <h3>Notes</h3>
          <ul>
            {next.notes.map((n) => (
              <li>{n}</li>
            ))}
          </ul>
        </>
      ) : null}
    </div>
  );
}

async function rejectPathPage(c: UiContext) {
  const me = await currentUser(c);
  const domain = c.req.param('domain') ?? '';
  const to = c.req.query('to') || undefined;
  const path = await apiJson<RejectPath>(c, `/api/aggregatereport/${encodeURIComponent(domain)}/reject-path${query({ to })}`);
  const categories = (['legitimate', 'forwarded', 'unknown'] as const).map((k) => ({ key: k, ...path.categories[k] }));
  return page(
    c,
    { title: `Path to reject: ${path.domain}`, active: 'domains', me },
    <>
      <Breadcrumbs trail={domainTrail(path.domain)} />
      <h1>
        <span class="caption">{path.domain}</span>
        <span class="visually-hidden">: </span>
        The path to p=reject
      </h1>
      <p class="lede">
        From the reports of {dayText(path.from)} to {dayText(path.to)}: who still fails DMARC, what a stricter policy would do, and the next safe step.
      </p>
      <dl class="key-figures">
        <div>
          <dt>Messages reported</dt>
          <dd data-figure="messages">{count(path.messages)}</dd>
        </div>
        <div>
          <dt>Passing DMARC</dt>
          <dd data-figure="pass_rate">{percent(path.pass_rate)}</dd>
        </div>
        <div>
          <dt>Passing, identified senders only</dt>
          <dd data-figure="identified_pass_rate">{percent(path.identified_pass_rate)}</dd>
        </div>
        <div>
          <dt>p=quarantine would affect</dt>
          <dd data-figure="quarantine_share">{percent(path.impact.quarantine.share)}</dd>
        </div>
        <div>
          <dt>p=reject would block</dt>
          <dd data-figure="reject_share">{percent(path.impact.reject.share)}</dd>
        </div>
      </dl>

      <h2 id="next-step">Next step</h2>
      <NextStep path={path} />

      <h2 id="who-fails">Who still fails DMARC</h2>
      <div class="table-wrap">
        <table class="stack" id="categories-table">
          <caption class="visually-hidden">Failing senders by kind</caption>
          <thead>
            <tr>
              <th scope="col">Kind</th>
              <th scope="col" class="num">Sources</th>
              <th scope="col" class="num">Failing messages</th>
              <th scope="col" class="num">Reject would block</th>
              <th scope="col">What it means</th>
            </tr>
          </thead>
          <tbody>
            {categories.map((r) => (
              <tr data-category={r.key}>
                <th scope="row" data-label="Kind">
                  <Tag tone={CATEGORY[r.key][1]}>{CATEGORY[r.key][0]}</Tag>
                </th>
                <td class="num" data-label="Sources">
                  {count(r.sources)}
                </td>
                <td class="num" data-label="Failing messages">
                  {count(r.dmarc_fail)}
                </td>
                <td class="num" data-label="Reject would block">
                  {count(r.would_be_rejected)}
                </td>
                <td data-label="What it means">{CATEGORY[r.key][2]}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>

      <h2 id="sources">Failing sources</h2>
      {path.sources.length === 0 ? (
        <p>No source failed DMARC in these 30 days.</p>
      ) : (
        <div class="table-wrap">
          <table class="stack" id="sources-table">
            <caption class="visually-hidden">Failing sources, most failures first</caption>
            <thead>
              <tr>
                <th scope="col">Source</th>
                <th scope="col">Sender</th>
                <th scope="col">Kind</th>
                <th scope="col" class="num">Messages</th>
                <th scope="col" class="num">Failing</th>
                <th scope="col" class="num">Reject would block</th>
              </tr>
            </thead>
            <tbody>
              {path.sources.map((s) => (
                <tr>
                  <td data-label="Source" class="mono">
                    {s.source_ip}
                  </td>
                  <td data-label="Sender">
                    {s.service ? `${s.service.name}${s.service.type ? ` (${s.service.type})` : ''}` : (s.ptr ?? 'Unidentified')}
                    <br />
                    <small>{REASONS[s.reason] ?? s.reason}</small>
                  </td>
                  <td data-label="Kind">
                    <Tag tone={CATEGORY[s.category][1]}>{CATEGORY[s.category][0]}</Tag>
                  </td>
                  <td class="num" data-label="Messages">
                    {count(s.messages)}
                  </td>
                  <td class="num" data-label="Failing">
                    {count(s.dmarc_fail)}
                  </td>
                  <td class="num" data-label="Reject would block">
                    {count(s.would_be_rejected)}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {path.omitted_sources > 0 ? <p>{count(path.omitted_sources)} more failing sources are not classified one by one; they count as unknown.</p> : null}
      <p>
        <a href={`/domains/${encodeURIComponent(path.domain)}/reports${query({ from: path.from, to: path.to })}`}>All reports of these days</a>
      </p>
    </>,
  );
}

export const rejectPathRoutes = new Hono<UiEnv>().get('/domains/:domain/reject-path', rejectPathPage);
