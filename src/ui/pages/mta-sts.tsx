/**
 * Hosted MTA-STS of one domain (`/domains/:domain/mta-sts`, docs/mta-sts-hosting.md): whether the
 * Worker serves its policy and in which mode, the policy as served, and the DNS records to publish.
 * Data from GET /api/mta-sts/:domain; the form posts here and calls PUT /api/mta-sts/:domain as the
 * signed-in person, so only administrators can change it (others see the settings and no form).
 */
import { Hono } from 'hono';
import { ApiError, apiCall, apiJson, currentUser, isAdmin, query, type Problem, type UiContext, type UiEnv } from '../api-call';
import { formatDateTime } from '../components/format';
import { ErrorSummary, Notice } from '../components/notice';
import { Tag } from '../components/tag';
import { page } from '../layout';

interface Hosting {
  domain: string;
  enabled: boolean;
  mode: 'testing' | 'enforce';
  updated_at: string | null;
  updated_by: string | null;
  policy_url: string;
  policy: { text: string; id: string; mode: string; max_age: number; mx: string[]; checked_at: string } | null;
  published_id: string | null;
  published_id_current: boolean;
  records: { name: string; type: string; value: string | null; purpose: string; note?: string }[];
}

const MODES = [
  ['testing', 'Testing: senders report failures (TLS-RPT) but still deliver'],
  ['enforce', 'Enforce: senders deliver only over TLS to the MX hosts named in the policy'],
] as const;

async function render(c: UiContext, domain: string, problem?: Problem) {
  const me = await currentUser(c);
  const hosting = await apiJson<Hosting>(c, `/api/mta-sts/${encodeURIComponent(domain)}`);
  const saved = c.req.query('notice') === 'saved';
  return page(
    c,
    { title: `MTA-STS hosting for ${hosting.domain}`, me, active: 'domains', status: problem ? 400 : 200 },
    <>
      <p>
        <a href={`/domains/${encodeURIComponent(hosting.domain)}`}>Back to {hosting.domain}</a>
      </p>
      <h1>MTA-STS hosting for {hosting.domain}</h1>
      {problem ? <ErrorSummary errors={(problem.errors ?? [{ path: '', message: problem.detail ?? problem.title }]).map((e) => ({ field: e.path === 'mode' ? 'mode' : undefined, message: e.message }))} /> : null}
      {saved ? <Notice tone="success" title="Settings saved" /> : null}
      <p>
        MTA-STS tells sending mail servers to deliver to {hosting.domain} only over TLS with a valid certificate. This service can serve the policy for you at{' '}
        <code>{hosting.policy_url}</code>, built from the MX hosts of the domain's latest check, so it follows your MX records by itself.
      </p>
      <dl class="summary">
        <dt>Hosting</dt>
        <dd>{hosting.enabled ? <Tag tone="good">On</Tag> : <Tag tone="none">Off</Tag>}</dd>
        <dt>Mode</dt>
        <dd>{hosting.mode === 'enforce' ? <Tag tone="good">Enforce</Tag> : <Tag tone="warn">Testing</Tag>}</dd>
        <dt>Last changed</dt>
        <dd>{hosting.updated_at ? `${formatDateTime(hosting.updated_at)} by ${hosting.updated_by ?? 'unknown'}` : 'Never'}</dd>
      </dl>

      <h2 id="policy-h">The policy</h2>
      {hosting.policy ? (
        <>
          <p>
            From the check of {formatDateTime(hosting.policy.checked_at)}; max_age {hosting.policy.max_age} seconds. {hosting.enabled ? 'Served now.' : 'Not served while hosting is off.'}
          </p>
          <pre aria-labelledby="policy-h">{hosting.policy.text.replace(/\r\n/g, '\n')}</pre>
        </>
      ) : (
        <p>No policy can be made yet: the domain has not been checked, or its latest check found no MX hosts.</p>
      )}

      <h2 id="records-h">DNS records to publish</h2>
      <div class="table-wrap">
        <table class="stack">
          <caption>Records for {hosting.domain}</caption>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Type</th>
              <th scope="col">Value</th>
              <th scope="col">Why</th>
            </tr>
          </thead>
          <tbody>
            {hosting.records.map((r) => (
              <tr>
                <th scope="row" data-label="Name">
                  <code>{r.name}</code>
                </th>
                <td data-label="Type">{r.type}</td>
                <td data-label="Value">{r.value ? <code>{r.value}</code> : <span>Not available: {r.note}</span>}</td>
                <td data-label="Why">{r.purpose}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {hosting.policy && hosting.enabled && !hosting.published_id_current ? (
        <Notice tone="info" title="Update the _mta-sts record">
          <p>
            {hosting.published_id
              ? `The domain's last check found id=${hosting.published_id}; the policy served now has id=${hosting.policy.id}. Senders fetch a new policy only when the id changes.`
              : `The domain's last check found no _mta-sts record: publish the one above so that senders look for the policy.`}
          </p>
        </Notice>
      ) : null}
      <p>Publish the CNAME first, turn hosting on in testing mode, then the two TXT records. Move to enforce once TLS reports show no failures for a few weeks.</p>

      {isAdmin(me) ? (
        <section class="form-section" aria-labelledby="settings-h">
          <h2 id="settings-h">Change hosting</h2>
          <form method="post" action={`/domains/${encodeURIComponent(hosting.domain)}/mta-sts`}>
            <div class="field">
              <input type="checkbox" id="enabled" name="enabled" value="true" checked={hosting.enabled} />
              <label for="enabled">Serve the MTA-STS policy for {hosting.domain}</label>
            </div>
            <div class="field">
              <label for="mode">Mode</label>
              <select id="mode" name="mode">
                {MODES.map(([value, label]) => (
                  <option value={value} selected={hosting.mode === value}>
                    {label}
                  </option>
                ))}
              </select>
            </div>
            <button type="submit" class="button">
              Save
            </button>
          </form>
        </section>
      ) : (
        <p>Only administrators can change these settings.</p>
      )}
    </>,
  );
}

export const mtaStsRoutes = new Hono<UiEnv>()
  .get('/domains/:domain/mta-sts', (c) => render(c, c.req.param('domain').toLowerCase()))
  .post('/domains/:domain/mta-sts', async (c) => {
    const domain = c.req.param('domain').toLowerCase();
    const form = await c.req.parseBody();
    const result = await apiCall(c, `/api/mta-sts/${encodeURIComponent(domain)}`, {
      method: 'PUT',
      body: { enabled: form.enabled === 'true', mode: typeof form.mode === 'string' ? form.mode : '' },
    });
    if (!result.ok) {
      if (result.status === 400) return render(c, domain, result.problem);
      throw new ApiError(result.status, result.problem);
    }
    return c.redirect(`/domains/${encodeURIComponent(domain)}/mta-sts${query({ notice: 'saved' })}`, 303);
  });
