/**
 * /admin/retention (docs/retention.md): the deployment's retention defaults, each group's overrides
 * (a form per group), deletions the purge is still working through, the latest purge runs, and a
 * button to run a pass now. Over /api/admin/retention, so only administrators get past the first call.
 */
import { Hono } from 'hono';
import { apiCall, apiJson, currentUser, query, type Problem, type UiContext, type UiEnv } from '../../api-call';
import { formatDateTime } from '../../components/format';
import { ErrorSummary, Notice } from '../../components/notice';
import { Tag } from '../../components/tag';
import { page } from '../../layout';

interface Retention {
  defaults: { raw_days: number; record_days: number };
  groups: { id: number; name: string; raw_days: number | null; record_days: number | null }[];
  pending_deletions: { id: number; domain: string; requested_at: string; requested_by: string; counts: Record<string, unknown> }[];
  recent_runs: { id: number; trigger: string; started_at: string; finished_at: string | null; complete: boolean; counts: Record<string, unknown> }[];
}

const days = (n: number) => (n === 0 ? 'forever' : `${n} days`);
const NOTICES: Record<string, string> = { saved: 'Retention saved.', ran: 'Purge pass finished.', partial: 'Purge pass stopped at its budget; the next run carries on.' };

function counted(counts: Record<string, unknown>): string {
  const parts = Object.entries(counts).filter(([, v]) => typeof v === 'number' && v > 0).map(([k, v]) => `${k.replace(/_/g, ' ')}: ${String(v)}`);
  return parts.length ? parts.join(', ') : 'nothing';
}

async function render(c: UiContext, problem?: Problem) {
  const me = await currentUser(c);
  const data = await apiJson<Retention>(c, '/api/admin/retention');
  const notice = NOTICES[c.req.query('notice') ?? ''];
  return page(
    c,
    { title: 'Retention', me, active: 'admin', status: problem ? 400 : 200 },
    <>
      <p>
        <a href="/admin">Administration</a>
      </p>
      <h1>Retention</h1>
      {problem ? <ErrorSummary errors={(problem.errors ?? [{ path: '', message: problem.detail ?? problem.title }]).map((e) => ({ message: `${e.path ? `${e.path.replace(/_/g, ' ')}: ` : ''}${e.message}` }))} /> : null}
      {notice ? <Notice tone="success" title={notice} /> : null}
      <p>
        Raw report messages are deleted from storage after <strong>{days(data.defaults.raw_days)}</strong>; report records and TLS failure details after{' '}
        <strong>{days(data.defaults.record_days)}</strong> (the deployment's defaults). Daily totals, the statistics and the list of reports stay. A group may keep its
        domains' data longer or shorter; a domain owned by several groups keeps the longest. The purge runs daily in batches.
      </p>

      <h2 id="groups-h">Groups</h2>
      {data.groups.length === 0 ? (
        <p>No groups yet.</p>
      ) : (
        <div class="table-wrap">
          <table class="stack">
            <caption>Retention per group (empty: the default; 0: keep forever)</caption>
            <thead>
              <tr>
                <th scope="col">Group</th>
                <th scope="col">Raw messages</th>
                <th scope="col">Records</th>
                <th scope="col">Change</th>
              </tr>
            </thead>
            <tbody>
              {data.groups.map((g) => (
                <tr>
                  <th scope="row">{g.name}</th>
                  <td data-label="Raw messages">{g.raw_days === null ? `Default (${days(data.defaults.raw_days)})` : days(g.raw_days)}</td>
                  <td data-label="Records">{g.record_days === null ? `Default (${days(data.defaults.record_days)})` : days(g.record_days)}</td>
                  <td data-label="Change">
                    <form method="post" action={`/admin/retention/groups/${g.id}`} class="inline-form">
                      <label for={`raw-${g.id}`}>
                        Raw days<span class="visually-hidden"> for {g.name}</span>
                      </label>
                      <input type="number" min="0" max="36500" id={`raw-${g.id}`} name="raw_days" value={g.raw_days === null ? '' : String(g.raw_days)} />
                      <label for={`record-${g.id}`}>
                        Record days<span class="visually-hidden"> for {g.name}</span>
                      </label>
                      <input type="number" min="0" max="36500" id={`record-${g.id}`} name="record_days" value={g.record_days === null ? '' : String(g.record_days)} />
                      <button type="submit" class="button button--secondary">
                        Save<span class="visually-hidden"> {g.name}</span>
                      </button>
                    </form>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}

      <h2>Deletions in progress</h2>
      {data.pending_deletions.length === 0 ? (
        <p>None: the data of every deleted domain is gone.</p>
      ) : (
        <ul>
          {data.pending_deletions.map((d) => (
            <li>
              {d.domain}, deleted {formatDateTime(d.requested_at)} by {d.requested_by}
            </li>
          ))}
        </ul>
      )}

      <h2>Latest purge runs</h2>
      {data.recent_runs.length === 0 ? (
        <p>No purge has run yet.</p>
      ) : (
        <div class="table-wrap">
          <table class="stack">
            <caption>The ten latest runs</caption>
            <thead>
              <tr>
                <th scope="col">Started</th>
                <th scope="col">By</th>
                <th scope="col">Finished</th>
                <th scope="col">Removed</th>
              </tr>
            </thead>
            <tbody>
              {data.recent_runs.map((r) => (
                <tr>
                  <th scope="row">{formatDateTime(r.started_at)}</th>
                  <td data-label="By">{r.trigger === 'cron' ? 'Daily schedule' : 'Administrator'}</td>
                  <td data-label="Finished">{r.complete ? <Tag tone="good">Everything due</Tag> : <Tag tone="warn">Stopped at budget</Tag>}</td>
                  <td data-label="Removed">{counted(r.counts)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <form method="post" action="/admin/retention/run">
        <button type="submit" class="button">
          Run a purge pass now
        </button>
      </form>
    </>,
  );
}

function daysField(value: unknown): number | null | string {
  const text = typeof value === 'string' ? value.trim() : '';
  if (text === '') return null;
  return /^\d+$/.test(text) ? Number(text) : text;
}

export const retentionRoutes = new Hono<UiEnv>()
  .get('/admin/retention', (c) => render(c))
  .post('/admin/retention/groups/:id{[0-9]+}', async (c) => {
    const form = await c.req.parseBody();
    const result = await apiCall(c, `/api/admin/retention/groups/${c.req.param('id')}`, { method: 'PUT', body: { raw_days: daysField(form.raw_days), record_days: daysField(form.record_days) } });
    if (!result.ok) return render(c, result.problem);
    return c.redirect(`/admin/retention${query({ notice: 'saved' })}`, 303);
  })
  .post('/admin/retention/run', async (c) => {
    const result = await apiCall<{ complete: boolean }>(c, '/api/admin/retention/run', { method: 'POST' });
    if (!result.ok) return render(c, result.problem);
    return c.redirect(`/admin/retention${query({ notice: result.data.complete ? 'ran' : 'partial' })}`, 303);
  });
