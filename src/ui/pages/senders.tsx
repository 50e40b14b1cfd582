/**
 * /senders: reverse DNS of source addresses and the sender map (docs/senders.md). Anyone with the
 * `read` scope looks up one address (GET /api/reverse-dns/{ip}), many at once (POST /api/reverse-dns)
 * or the service a base domain maps to (GET /api/reverse-dns/map/{base_domain}); administrators set a
 * base domain's service (PUT /api/reverse-dns/map/{base_domain}), which replaces the shipped entry.
 */
import { Hono } from 'hono';
import { ApiError, apiCall, currentUser, isAdmin, query, type Me, type Problem, type UiContext, type UiEnv } from '../api-call';
import { page } from '../layout';
import { ErrorSummary, field, formFields, TextField, timeOrDash } from './admin/common';

interface Lookup {
  ip: string;
  ptr: string[];
  confirmed: string[];
  base_domain: string | null;
  service: { name: string; type: string } | null;
  known_unknown: boolean;
  status: 'ok' | 'no-ptr' | 'not-confirmed' | 'dns-failure';
  error?: string;
  checked_at: string;
  expires_at: string;
  cached: boolean;
}

type BatchItem = Lookup | { ip: string; status: 'pending' };

interface MapEntry {
  base_domain: string;
  service: { name: string; type: string } | null;
  source: string | null;
  known_unknown: boolean;
}

const STATUS: Record<string, [string, string]> = {
  ok: ['Confirmed', 'tag--good'],
  'no-ptr': ['No PTR record', 'tag--none'],
  'not-confirmed': ['Not confirmed', 'tag--warn'],
  'dns-failure': ['DNS failure', 'tag--bad'],
  pending: ['Pending: looked up in the background', 'tag--info'],
};

function StatusTag(props: { status: string }) {
  const [text, tone] = STATUS[props.status] ?? [props.status, 'tag--none'];
  return <span class={`tag ${tone}`}>{text}</span>;
}

function service(l: { service: { name: string; type: string } | null; known_unknown: boolean }): string {
  if (l.service) return `${l.service.name} (${l.service.type})`;
  return l.known_unknown ? 'Known, not a sending service' : 'Unknown';
}

const names = (list: string[]) => (list.length ? list.join(', ') : 'None');

function BaseDomainLink(props: { domain: string | null }) {
  return props.domain ? <a href={`/senders${query({ base_domain: props.domain })}#sender-map`}>{props.domain}</a> : <>–</>;
}

function OneResult(props: { lookup: Lookup }) {
  const l = props.lookup;
  return (
    <section aria-labelledby="lookup-result">
      <h3 id="lookup-result">{l.ip}</h3>
      <dl class="summary" id="lookup-answer">
        <dt>Result</dt>
        <dd>
          <StatusTag status={l.status} />
          {l.error ? ` ${l.error}` : null}
        </dd>
        <dt>PTR names</dt>
        <dd class="mono">{names(l.ptr)}</dd>
        <dt>Confirmed names</dt>
        <dd class="mono">{names(l.confirmed)}</dd>
        <dt>Base domain</dt>
        <dd>
          <BaseDomainLink domain={l.base_domain} />
        </dd>
        <dt>Service</dt>
        <dd>{service(l)}</dd>
        <dt>Checked</dt>
        <dd>
          {timeOrDash(l.checked_at)}
          {l.cached ? ' (from the cache)' : ' (looked up now)'}, kept until {timeOrDash(l.expires_at)}
        </dd>
      </dl>
    </section>
  );
}

function BatchResult(props: { items: BatchItem[] }) {
  return (
    <div class="table-wrap">
      <table class="stack" id="batch-answer">
        <caption>Reverse DNS of {props.items.length === 1 ? 'one address' : `${props.items.length} addresses`}, in the order given</caption>
        <thead>
          <tr>
            <th scope="col">Address</th>
            <th scope="col">Result</th>
            <th scope="col">PTR names</th>
            <th scope="col">Confirmed names</th>
            <th scope="col">Base domain</th>
            <th scope="col">Service</th>
          </tr>
        </thead>
        <tbody>
          {props.items.map((item) =>
            'ptr' in item ? (
              <tr>
                <th scope="row" class="mono">
                  {item.ip}
                </th>
                <td data-label="Result">
                  <StatusTag status={item.status} />
                  {item.error ? ` ${item.error}` : null}
                </td>
                <td data-label="PTR names" class="mono">
                  {names(item.ptr)}
                </td>
                <td data-label="Confirmed names" class="mono">
                  {names(item.confirmed)}
                </td>
                <td data-label="Base domain">
                  <BaseDomainLink domain={item.base_domain} />
                </td>
                <td data-label="Service">{service(item)}</td>
              </tr>
            ) : (
              <tr>
                <th scope="row" class="mono">
                  {item.ip}
                </th>
                <td data-label="Result" colspan={5}>
                  <StatusTag status={item.status} /> Look again in a moment.
                </td>
              </tr>
            ),
          )}
        </tbody>
      </table>
    </div>
  );
}

const SOURCE: Record<string, string> = { map: 'The shipped sender map', admin: 'Set by an administrator' };

/** A problem the batch lookup adds to: the entries that are not addresses. */
function withInvalid(problem: Problem & { invalid?: unknown[] }): Problem {
  if (!Array.isArray(problem.invalid) || problem.invalid.length === 0) return problem;
  return { ...problem, detail: `${problem.detail ?? problem.title} Not addresses: ${problem.invalid.map(String).join(', ')}` };
}

interface State {
  ip?: { value: string; lookup?: Lookup; problem?: Problem };
  batch?: { value: string; items?: BatchItem[]; problem?: Problem };
  map?: { value: string; entry?: MapEntry; problem?: Problem };
  override?: { values: { base_domain: string; name: string; type: string }; problem: Problem };
  status?: 200 | 400 | 403;
}

const NOTICES: Record<string, string> = { 'map-created': 'Added to the sender map.', 'map-updated': 'Sender map entry replaced.' };

function sendersPage(c: UiContext, me: Me, state: State) {
  const notice = NOTICES[c.req.query('notice') ?? ''];
  const o = state.override?.values ?? { base_domain: state.map?.entry?.base_domain ?? '', name: state.map?.entry?.service?.name ?? '', type: state.map?.entry?.service?.type ?? '' };
  return page(
    c,
    { title: 'Senders and reverse DNS', active: 'senders', me, status: state.status ?? 200 },
    <>
      <h1>Senders and reverse DNS</h1>
      <p>
        Reports name the addresses that sent mail. Their reverse DNS (PTR) names, confirmed by a forward lookup, give a base domain, and the sender map says which
        service that is. Results are cached.
      </p>
      {notice ? (
        <div class="notice notice--success" role="status">
          <p>{notice}</p>
        </div>
      ) : null}

      <section aria-labelledby="one-address">
        <h2 id="one-address">Look up an address</h2>
        <ErrorSummary problem={state.ip?.problem} />
        <form method="get" action="/senders" class="filters">
          <TextField id="lookup-ip" name="ip" label="IPv4 or IPv6 address" hint="For example 192.0.2.1 or 2001:db8::1" value={state.ip?.value ?? ''} required />
          <button type="submit" class="button">
            Look up
          </button>
        </form>
        {state.ip?.lookup ? <OneResult lookup={state.ip.lookup} /> : null}
      </section>

      <section aria-labelledby="many-addresses">
        <h2 id="many-addresses">Look up many addresses</h2>
        <ErrorSummary problem={state.batch?.problem} />
        <form method="post" action="/senders/lookup">
          <div class="field">
            <label for="lookup-ips">Addresses</label>
            <p class="hint" id="lookup-ips-hint">
              Up to 100, one a line (or separated by spaces or commas). Beyond 25 not looked up before, the rest are looked up in the background.
            </p>
            <textarea id="lookup-ips" name="ips" rows={5} aria-describedby="lookup-ips-hint" spellcheck={false}>
              {state.batch?.value ?? ''}
            </textarea>
          </div>
          <button type="submit" class="button">
            Look up all
          </button>
        </form>
        {state.batch?.items ? <BatchResult items={state.batch.items} /> : null}
      </section>

      <section aria-labelledby="sender-map">
        <h2 id="sender-map">Sender map</h2>
        <ErrorSummary problem={state.map?.problem} />
        <form method="get" action="/senders#sender-map" class="filters">
          <TextField id="map-domain" name="base_domain" label="Base domain" hint="For example mcsv.net" value={state.map?.value ?? ''} required />
          <button type="submit" class="button">
            Show the service
          </button>
        </form>
        {state.map?.entry ? (
          <dl class="summary" id="map-answer">
            <dt>Base domain</dt>
            <dd class="mono">{state.map.entry.base_domain}</dd>
            <dt>Service</dt>
            <dd>{service(state.map.entry)}</dd>
            <dt>Entry</dt>
            <dd>{state.map.entry.source ? (SOURCE[state.map.entry.source] ?? state.map.entry.source) : 'Not in the sender map'}</dd>
          </dl>
        ) : null}
        {isAdmin(me) ? (
          <section class="form-section" aria-labelledby="override">
            <h3 id="override">Set the service of a base domain</h3>
            <p>Your entry replaces the shipped one and is recorded in the audit log. Reports already stored keep the service they were given.</p>
            <ErrorSummary problem={state.override?.problem} />
            <form method="post" action="/senders/map">
              <TextField id="override-domain" name="base_domain" label="Base domain of the sender" value={o.base_domain} required problem={state.override?.problem} />
              <TextField id="override-name" name="name" label="Service name" hint="For example Mailchimp" value={o.name} required problem={state.override?.problem} />
              <TextField id="override-type" name="type" label="Service type" hint="For example Email Service Provider" value={o.type} required problem={state.override?.problem} />
              <button type="submit" class="button">
                Save to the sender map
              </button>
            </form>
          </section>
        ) : null}
      </section>
    </>,
  );
}

/** The GET page's lookups, from its query: an address and a base domain. */
async function lookups(c: UiContext): Promise<State> {
  const state: State = {};
  const ip = (c.req.query('ip') ?? '').trim();
  if (ip) {
    const r = await apiCall<Lookup>(c, `/api/reverse-dns/${encodeURIComponent(ip)}`);
    if (!r.ok && (r.status === 401 || r.status === 403)) throw new ApiError(r.status, r.problem);
    state.ip = r.ok ? { value: ip, lookup: r.data } : { value: ip, problem: r.problem };
    if (!r.ok) state.status = 400;
  }
  const baseDomain = (c.req.query('base_domain') ?? '').trim();
  if (baseDomain) {
    const r = await apiCall<MapEntry>(c, `/api/reverse-dns/map/${encodeURIComponent(baseDomain)}`);
    if (!r.ok && (r.status === 401 || r.status === 403)) throw new ApiError(r.status, r.problem);
    state.map = r.ok ? { value: baseDomain, entry: r.data } : { value: baseDomain, problem: r.problem };
    if (!r.ok) state.status = 400;
  }
  return state;
}

export const sendersRoutes = new Hono<UiEnv>()
  .get('/senders', async (c) => {
    const me = await currentUser(c);
    // Proves the read scope before anything is shown (an ingest-only token gets the 403 page).
    const state = await lookups(c);
    return sendersPage(c, me, state);
  })
  .post('/senders/lookup', async (c) => {
    const me = await currentUser(c);
    const fields = await formFields(c);
    const value = field(fields, 'ips');
    const ips = value.split(/[\s,;]+/).filter(Boolean);
    const r = await apiCall<{ items: BatchItem[] }>(c, '/api/reverse-dns', { method: 'POST', body: { ips } });
    if (!r.ok) {
      const problem = r.problem.errors?.length ? { ...r.problem, errors: r.problem.errors.map((e) => ({ ...e, path: e.path === 'ips' ? '(body)' : e.path, message: e.path === 'ips' ? `Addresses ${e.message}` : e.message })) } : withInvalid(r.problem);
      return sendersPage(c, me, { batch: { value, problem }, status: r.status === 403 ? 403 : 400 });
    }
    return sendersPage(c, me, { batch: { value, items: r.data.items } });
  })
  .post('/senders/map', async (c) => {
    const me = await currentUser(c);
    const fields = await formFields(c);
    const values = { base_domain: field(fields, 'base_domain'), name: field(fields, 'name'), type: field(fields, 'type') };
    const problem = (p: Problem) => sendersPage(c, me, { override: { values, problem: p }, status: p.status === 403 ? 403 : 400 });
    if (!values.base_domain) return problem({ title: 'Bad Request', status: 400, errors: [{ path: 'base_domain', message: 'enter the base domain' }] });
    const r = await apiCall<{ base_domain: string }>(c, `/api/reverse-dns/map/${encodeURIComponent(values.base_domain)}`, { method: 'PUT', body: { name: values.name, type: values.type } });
    if (!r.ok) {
      // The API names the path parameter; the form calls it base_domain too.
      return problem({ ...r.problem, errors: r.problem.errors?.map((e) => (e.path === 'base_domain' || e.path === '(param)' ? { ...e, path: 'base_domain' } : e)) });
    }
    return c.redirect(`/senders${query({ base_domain: r.data.base_domain, notice: r.status === 201 ? 'map-created' : 'map-updated' })}#sender-map`, 303);
  });
