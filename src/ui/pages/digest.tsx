/**
 * Weekly digests (docs/digests.md): the groups whose digest the person may read, and one group's
 * digest for an ISO week, the same content as the Monday email, from GET /api/digests and
 * GET /api/digests/{group_id}?week=.
 *
 *   GET /digests                          the groups, with this week's email delivery
 *   GET /digests/:group_id?week=YYYY-Www  one digest (default: the last complete week)
 */
import { Hono } from 'hono';
import { apiCall, ApiError, apiJson, currentUser, query, type UiContext, type UiEnv } from '../api-call';
import { Tag } from '../components/tag';
import { page } from '../layout';
import { count, dayText, percent } from './reports/format';
import type { Digest } from '../../digests/build';
import { changeText } from '../../digests/render';
import { parseWeek, weekOf } from '../../digests/week';
import { addDays } from '../../stats/date-range';
import { Breadcrumbs } from '../components/breadcrumbs';

interface DigestList {
  week: string;
  items: { group_id: number; name: string; delivery: { status: string; sent_at: string | null } | null }[];
}

const DELIVERY: Record<string, [string, 'good' | 'warn' | 'bad' | 'none']> = {
  sent: ['Emailed', 'good'],
  sending: ['Sending', 'warn'],
  failed: ['Email failed', 'bad'],
  skipped: ['Not emailed', 'none'],
};

async function listPage(c: UiContext) {
  const me = await currentUser(c);
  const list = await apiJson<DigestList>(c, '/api/digests');
  return page(
    c,
    { title: 'Weekly digests', active: 'digests', me },
    <>
      <h1>Weekly digests</h1>
      <p class="lede">
        Every Monday each group with a notification email gets a digest of the week before: volume, pass rate, new sources, open findings, what changed and the next
        step to p=reject for each domain. The same digests are here.
      </p>
      {list.items.length === 0 ? (
        <p>You are not in any group yet.</p>
      ) : (
        <div class="table-wrap">
          <table class="stack" id="digests-table">
            <caption class="visually-hidden">Groups and the digest of week {list.week}</caption>
            <thead>
              <tr>
                <th scope="col">Group</th>
                <th scope="col">Week {list.week}</th>
              </tr>
            </thead>
            <tbody>
              {list.items.map((g) => (
                <tr>
                  <td data-label="Group">
                    <a href={`/digests/${g.group_id}`}>{g.name}</a>
                  </td>
                  <td data-label={`Week ${list.week}`}>
                    {g.delivery ? <Tag tone={DELIVERY[g.delivery.status]?.[1] ?? 'none'}>{DELIVERY[g.delivery.status]?.[0] ?? g.delivery.status}</Tag> : 'Not emailed'}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>,
  );
}

function nextStepText(d: Digest['domains'][number]): string {
  const path = d.reject_path;
  if (path.next_step === null) return 'At p=reject';
  const target = `p=${path.next_step.p}${path.next_step.pct < 100 ? ` pct=${path.next_step.pct}` : ''}`;
  return path.ready ? `Ready for ${target}` : `Not yet ready for ${target}`;
}

async function digestPage(c: UiContext) {
  const me = await currentUser(c);
  const groupId = c.req.param('group_id');
  const week = c.req.query('week') || undefined;
  const result = await apiCall<Digest>(c, `/api/digests/${groupId}${query({ week })}`);
  if (!result.ok) {
    // A malformed week: show the form again with the API's reason rather than an error page.
    if (result.status === 400) return digestForm(c, me, groupId ?? '', week ?? '', result.problem.detail ?? 'Not a week');
    throw new ApiError(result.status, result.problem);
  }
  const d = result.data;
  const current = parseWeek(d.week)!;
  const previous = weekOf(addDays(current.from, -7)).week;
  const next = weekOf(addDays(current.to, 1)).week;
  return page(
    c,
    { title: `Digest ${d.week}: ${d.group.name}`, active: 'digests', me },
    <>
      <Breadcrumbs trail={[{ href: '/digests', label: 'Weekly digests' }]} />
      <h1>
        <span class="caption">{d.group.name}</span>
        <span class="visually-hidden">: </span>
        Week {d.week}
      </h1>
      <p class="lede">
        {dayText(d.from)} to {dayText(d.to)} (UTC). <a href={`/digests/${d.group.id}${query({ week: previous })}`}>Week before</a> ·{' '}
        <a href={`/digests/${d.group.id}${query({ week: next })}`}>Week after</a>
      </p>
      <WeekForm groupId={String(d.group.id)} week={d.week} />
      <dl class="key-figures">
        <div>
          <dt>Messages reported</dt>
          <dd data-figure="messages">{count(d.totals.messages)}</dd>
        </div>
        <div>
          <dt>Passing DMARC</dt>
          <dd data-figure="pass_rate">{percent(d.totals.pass_rate)}</dd>
        </div>
        <div>
          <dt>The week before</dt>
          <dd data-figure="previous_pass_rate">
            {count(d.totals.previous.messages)} messages, {percent(d.totals.previous.pass_rate)}
          </dd>
        </div>
        <div>
          <dt>New sources</dt>
          <dd data-figure="new_sources">{count(d.new_sources.total)}</dd>
        </div>
      </dl>

      <h2 id="domains">Domains and the path to reject</h2>
      {d.domains.length === 0 ? (
        <p>This group has no domains.</p>
      ) : (
        <div class="table-wrap">
          <table class="stack" id="domains-table">
            <caption class="visually-hidden">Domains, the most mail first</caption>
            <thead>
              <tr>
                <th scope="col">Domain</th>
                <th scope="col" class="num">Messages</th>
                <th scope="col" class="num">Passing</th>
                <th scope="col" class="num">New sources</th>
                <th scope="col" class="num">Errors</th>
                <th scope="col" class="num">Warnings</th>
                <th scope="col">Path to reject</th>
              </tr>
            </thead>
            <tbody>
              {d.domains.map((dom) => (
                <tr>
                  <td data-label="Domain">
                    <a href={`/domains/${encodeURIComponent(dom.domain)}`}>{dom.domain}</a>
                  </td>
                  <td class="num" data-label="Messages">
                    {count(dom.messages)}
                  </td>
                  <td class="num" data-label="Passing">
                    {percent(dom.pass_rate)}
                  </td>
                  <td class="num" data-label="New sources">
                    {count(dom.new_sources)}
                  </td>
                  <td class="num" data-label="Errors">
                    {count(dom.findings.error)}
                  </td>
                  <td class="num" data-label="Warnings">
                    {count(dom.findings.warning)}
                  </td>
                  <td data-label="Path to reject">
                    {dom.reject_path.next_step === null ? <Tag tone="good">p=reject</Tag> : dom.reject_path.ready ? <Tag tone="good">Ready</Tag> : <Tag tone="warn">Not yet</Tag>}{' '}
                    <a href={`/domains/${encodeURIComponent(dom.domain)}/reject-path${query({ to: d.to })}`}>{nextStepText(dom)}</a>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {d.more_domains > 0 ? <p>And {count(d.more_domains)} more domains with less mail.</p> : null}

      <h2 id="new-sources">New sources (first seen this week)</h2>
      {d.new_sources.items.length === 0 ? (
        <p>No new sources.</p>
      ) : (
        <div class="table-wrap">
          <table class="stack" id="new-sources-table">
            <caption class="visually-hidden">Sources first seen this week, most mail first</caption>
            <thead>
              <tr>
                <th scope="col">Domain</th>
                <th scope="col">Source</th>
                <th scope="col">Sender</th>
                <th scope="col" class="num">Messages</th>
                <th scope="col" class="num">Passing</th>
                <th scope="col">First seen</th>
              </tr>
            </thead>
            <tbody>
              {d.new_sources.items.map((s) => (
                <tr>
                  <td data-label="Domain">{s.domain}</td>
                  <td data-label="Source" class="mono">
                    {s.source_ip}
                  </td>
                  <td data-label="Sender">{s.service ? s.service.name : (s.ptr ?? 'Unidentified')}</td>
                  <td class="num" data-label="Messages">
                    {count(s.messages)}
                  </td>
                  <td class="num" data-label="Passing">
                    {count(s.dmarc_pass)}
                  </td>
                  <td data-label="First seen">{dayText(s.first_seen)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {d.new_sources.total > d.new_sources.items.length ? <p>And {count(d.new_sources.total - d.new_sources.items.length)} more.</p> : null}

      <h2 id="findings">Open findings</h2>
      <p>
        From the latest checks: {count(d.findings.error)} errors, {count(d.findings.warning)} warnings, {count(d.findings.info)} notes.
      </p>
      {d.findings.items.length > 0 ? (
        <ul class="findings">
          {d.findings.items.map((f) => (
            <li class={`finding finding--${f.severity}`}>
              <Tag tone={f.severity === 'error' ? 'bad' : 'warn'}>{f.severity === 'error' ? 'Error' : 'Warning'}</Tag>{' '}
              <a href={`/domains/${encodeURIComponent(f.domain)}`}>{f.domain}</a>: {f.title} <small>({f.id})</small>
            </li>
          ))}
        </ul>
      ) : null}

      <h2 id="changes">What changed this week</h2>
      {d.changes.items.length === 0 ? (
        <p>No changes in the checks this week.</p>
      ) : (
        <ul>
          {d.changes.items.map((ch) => (
            <li>
              {dayText(ch.at.slice(0, 10))}, <a href={`/domains/${encodeURIComponent(ch.domain)}`}>{ch.domain}</a>: {changeText(ch)}
            </li>
          ))}
        </ul>
      )}
      {d.changes.total > d.changes.items.length ? <p>And {count(d.changes.total - d.changes.items.length)} more.</p> : null}
    </>,
  );
}

function WeekForm(props: { groupId: string; week: string; error?: string }) {
  return (
    <form method="get" action={`/digests/${props.groupId}`} class="filters">
      <div class={props.error ? 'field field--error' : 'field'}>
        <label for="week">Week</label>
        <p class="hint" id="week-hint">
          An ISO week, for example 2026-W47
        </p>
        {props.error ? (
          <p class="field-error" id="week-error">
            {props.error}
          </p>
        ) : null}
        <input type="week" id="week" name="week" value={props.week} aria-describedby={props.error ? 'week-hint week-error' : 'week-hint'} />
      </div>
      <button type="submit" class="button">
        Show
      </button>
    </form>
  );
}

function digestForm(c: UiContext, me: Awaited<ReturnType<typeof currentUser>>, groupId: string, week: string, error: string) {
  return page(
    c,
    { title: 'Weekly digest', active: 'digests', me, status: 400 },
    <>
      <div class="error-summary" role="alert">
        <h2>There is a problem</h2>
        <ul>
          <li>
            <a href="#week">{error}</a>
          </li>
        </ul>
      </div>
      <h1>Weekly digest</h1>
      <WeekForm groupId={groupId} week={week} error={error} />
    </>,
  );
}

export const digestRoutes = new Hono<UiEnv>().get('/digests', listPage).get('/digests/:group_id{[0-9]+}', digestPage);
