/**
 * Admin: inbound messages (docs/ingest.md): every message received by mail or upload and what became
 * of it (GET /api/inbound, GET /api/inbound/{id}), and replay from the raw copy (POST
 * /api/admin/replay), one message, or every failed or rejected one. Administrators only: the first
 * call is an admin route, so a member gets the friendly 403 page from the API's own answer.
 */
import { Hono } from 'hono';
import { apiCall, apiJson, query, type Me, type Problem, type UiContext, type UiEnv } from '../../api-call';
import { adminPage, adminUser, ErrorSummary, field, fieldList, formFields, NextPage, type Page, PostButton, timeOrDash } from './common';

export const INBOUND_STATUSES = ['received', 'parsed', 'duplicate', 'rejected', 'failed'] as const;
type InboundStatus = (typeof INBOUND_STATUSES)[number];

export interface InboundMessage {
  id: number;
  received_at: string;
  updated_at: string;
  source: 'email' | 'upload';
  mail_from: string | null;
  rcpt_to: string | null;
  filename: string | null;
  size: number;
  sha256: string;
  status: InboundStatus;
  reason: string | null;
  reason_code: string | null;
  duplicate_of: number | null;
  attempts: number;
  last_error: string | null;
  processing_ms: number;
  summary: unknown;
}

interface InboundDetail extends InboundMessage {
  in_progress: { id: number; report_id: string; records_ingested: number }[];
}

interface ReplayAnswer {
  replayed: number[];
  missing: number[];
  purged: { id: number; purged_at: string }[];
}

const STATUS_TEXT: Record<InboundStatus, [string, string]> = {
  received: ['Received, waiting', 'tag--info'],
  parsed: ['Parsed', 'tag--good'],
  duplicate: ['Duplicate', 'tag--none'],
  rejected: ['Rejected', 'tag--warn'],
  failed: ['Failed', 'tag--bad'],
};

function StatusTag(props: { status: InboundStatus }) {
  const [text, tone] = STATUS_TEXT[props.status] ?? [props.status, 'tag--none'];
  return <span class={`tag ${tone}`}>{text}</span>;
}

function bytes(size: number): string {
  if (size < 1024) return `${size} bytes`;
  if (size < 1024 * 1024) return `${(size / 1024).toFixed(1)} KB`;
  return `${(size / 1024 / 1024).toFixed(1)} MB`;
}

/** Numbers from the query string after a replay (the API's own ids, digits only). */
function idsParam(value: string | undefined): number[] {
  return (value ?? '')
    .split(',')
    .filter((v) => /^[0-9]{1,12}$/.test(v))
    .map(Number);
}

/** What the replay did, from the redirect's query (numbers only, never text from the request). */
function ReplayNotice(props: { c: UiContext }) {
  if (props.c.req.query('notice') !== 'replayed') return null;
  const replayed = idsParam(props.c.req.query('replayed'));
  const missing = idsParam(props.c.req.query('missing'));
  const purged = idsParam(props.c.req.query('purged'));
  const list = (ids: number[], total = ids.length) => (total > ids.length || ids.length > 20 ? `${ids.slice(0, 20).join(', ')} and ${total - Math.min(ids.length, 20)} more` : ids.join(', '));
  const count = /^[0-9]{1,7}$/.test(props.c.req.query('count') ?? '') ? Number(props.c.req.query('count')) : replayed.length;
  return (
    <div class="notice notice--success" role="status">
      <h2>Replay requested</h2>
      <p>
        {count === 0
          ? 'No message was queued again.'
          : `${count} ${count === 1 ? 'message was' : 'messages were'} queued again for processing (${list(replayed, count)}). Processing takes a moment: reload to see the new status.`}
      </p>
      {missing.length > 0 ? <p>Not inbound messages: {list(missing)}.</p> : null}
      {purged.length > 0 ? <p>Not replayed because retention has removed their raw copy: {list(purged)}.</p> : null}
    </div>
  );
}

/** Where a replay form returns to: one of this section's pages, nothing else. */
function backTo(value: string): string {
  return /^\/admin\/inbound(\/[0-9]+)?(\?[A-Za-z0-9=&_%-]*)?$/.test(value) ? value : '/admin/inbound';
}

async function listInbound(c: UiContext, me: Me, refused?: Problem) {
  const raw = c.req.query('status') ?? '';
  const status = (INBOUND_STATUSES as readonly string[]).includes(raw) ? raw : '';
  const list = await apiJson<Page<InboundMessage>>(c, `/api/inbound${query({ status, cursor: c.req.query('cursor'), limit: 50 })}`);
  const back = `/admin/inbound${query({ status })}`;
  return adminPage(
    c,
    me,
    { title: 'Inbound messages', section: 'inbound', status: refused ? 400 : 200 },
    <>
      <h1>Inbound messages</h1>
      <p>Every message received by email or uploaded, newest first, and what became of it. A message that failed or was rejected can be processed again from its stored copy.</p>
      <ErrorSummary problem={refused} />
      <ReplayNotice c={c} />
      <form method="get" action="/admin/inbound" class="filters" aria-label="Filter inbound messages">
        <div class="field">
          <label for="inbound-status">Status</label>
          <select id="inbound-status" name="status" data-autosubmit>
            <option value="" selected={status === ''}>
              Any status
            </option>
            {INBOUND_STATUSES.map((s) => (
              <option value={s} selected={status === s}>
                {STATUS_TEXT[s][0]}
              </option>
            ))}
          </select>
        </div>
        <button type="submit" class="button button--secondary">
          Filter
        </button>
      </form>
      {list.items.length === 0 ? (
        <p>No inbound messages{status ? ` with the status ${STATUS_TEXT[status as InboundStatus][0].toLowerCase()}` : ''}.</p>
      ) : (
        <div class="table-wrap">
          <table class="stack" id="inbound-table">
            <caption>{status ? `Inbound messages: ${STATUS_TEXT[status as InboundStatus][0].toLowerCase()}, newest first` : 'Inbound messages, newest first'}</caption>
            <thead>
              <tr>
                <th scope="col">Message</th>
                <th scope="col">Received</th>
                <th scope="col">Source</th>
                <th scope="col">From or file</th>
                <th scope="col" class="num">
                  Size
                </th>
                <th scope="col">Status</th>
                <th scope="col">Reason</th>
                <th scope="col" class="num">
                  Attempts
                </th>
                <th scope="col">
                  <span class="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {list.items.map((m) => (
                <tr data-inbound-id={String(m.id)}>
                  <th scope="row">
                    <a href={`/admin/inbound/${m.id}`}>Message {m.id}</a>
                  </th>
                  <td data-label="Received">{timeOrDash(m.received_at)}</td>
                  <td data-label="Source">{m.source === 'email' ? 'Email' : 'Upload'}</td>
                  <td data-label="From or file" class="mono">
                    {m.filename ?? m.mail_from ?? '–'}
                  </td>
                  <td data-label="Size" class="num">
                    {bytes(m.size)}
                  </td>
                  <td data-label="Status">
                    <StatusTag status={m.status} />
                  </td>
                  <td data-label="Reason">{m.reason ?? (m.duplicate_of !== null ? `Same content as message ${m.duplicate_of}` : '–')}</td>
                  <td data-label="Attempts" class="num">
                    {m.attempts}
                  </td>
                  <td>
                    {m.status === 'failed' || m.status === 'rejected' ? (
                      <PostButton
                        action="/admin/inbound/replay"
                        hidden={{ ids: String(m.id), back }}
                        label={
                          <>
                            Replay<span class="visually-hidden"> message {m.id}</span>
                          </>
                        }
                      />
                    ) : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <NextPage c={c} next={list.next_cursor} label="inbound messages" />

      <section class="form-section" aria-labelledby="replay-many">
        <h2 id="replay-many">Replay every failed or rejected message</h2>
        <p>Each is processed again from its stored copy, up to 1,000 at a time. Messages whose copy retention has removed are left as they are.</p>
        <div class="actions">
          <PostButton action="/admin/inbound/replay" hidden={{ status: 'failed', back }} label="Replay all failed messages" confirm="Process every failed message again?" />
          <PostButton action="/admin/inbound/replay" hidden={{ status: 'rejected', back }} label="Replay all rejected messages" confirm="Process every rejected message again?" />
        </div>
      </section>
    </>,
  );
}

function Summary(props: { summary: unknown }) {
  const s = props.summary as { aggregate?: unknown[]; smtp_tls?: unknown[]; failure?: unknown[]; warnings?: string[] } | null;
  if (!s || typeof s !== 'object') return <p>Nothing yet: the summary is written once the message is parsed.</p>;
  return (
    <>
      <dl class="summary">
        <dt>Aggregate (DMARC) reports</dt>
        <dd>{Array.isArray(s.aggregate) ? s.aggregate.length : 0}</dd>
        <dt>SMTP TLS reports</dt>
        <dd>{Array.isArray(s.smtp_tls) ? s.smtp_tls.length : 0}</dd>
        <dt>Failure reports</dt>
        <dd>{Array.isArray(s.failure) ? s.failure.length : 0}</dd>
      </dl>
      {Array.isArray(s.warnings) && s.warnings.length > 0 ? (
        <>
          <h3>Warnings</h3>
          <ul>
            {s.warnings.map((w) => (
              <li>{String(w)}</li>
            ))}
          </ul>
        </>
      ) : null}
      <details>
        <summary>The summary as the API gives it</summary>
        <pre>{JSON.stringify(s, null, 2)}</pre>
      </details>
    </>
  );
}

async function showInbound(c: UiContext, me: Me, id: string, refused?: Problem) {
  const m = await apiJson<InboundDetail>(c, `/api/inbound/${id}`);
  const back = `/admin/inbound/${m.id}`;
  return adminPage(
    c,
    me,
    { title: `Inbound message ${m.id}`, section: 'inbound', status: refused ? 400 : 200 },
    <>
      <p class="breadcrumbs">
        <a href="/admin/inbound">Inbound messages</a>
      </p>
      <h1>Inbound message {m.id}</h1>
      <ErrorSummary problem={refused} />
      <ReplayNotice c={c} />
      <dl class="summary" id="inbound-detail">
        <dt>Status</dt>
        <dd>
          <StatusTag status={m.status} />
        </dd>
        <dt>Reason</dt>
        <dd>
          {m.reason ?? '–'}
          {m.reason_code ? <span class="mono"> ({m.reason_code})</span> : null}
        </dd>
        {m.duplicate_of !== null ? (
          <>
            <dt>Duplicate of</dt>
            <dd>
              <a href={`/admin/inbound/${m.duplicate_of}`}>Message {m.duplicate_of}</a>
            </dd>
          </>
        ) : null}
        <dt>Attempts</dt>
        <dd>{m.attempts}</dd>
        <dt>Last error</dt>
        <dd>{m.last_error ?? '–'}</dd>
        <dt>Received</dt>
        <dd>{timeOrDash(m.received_at)}</dd>
        <dt>Last updated</dt>
        <dd>{timeOrDash(m.updated_at)}</dd>
        <dt>Processing time</dt>
        <dd>{m.processing_ms} ms</dd>
        <dt>Source</dt>
        <dd>{m.source === 'email' ? 'Email' : 'Upload'}</dd>
        <dt>Mail from</dt>
        <dd class="mono">{m.mail_from ?? '–'}</dd>
        <dt>Sent to</dt>
        <dd class="mono">{m.rcpt_to ?? '–'}</dd>
        <dt>File name</dt>
        <dd class="mono">{m.filename ?? '–'}</dd>
        <dt>Size</dt>
        <dd>{bytes(m.size)}</dd>
        <dt>SHA-256</dt>
        <dd class="mono">{m.sha256}</dd>
      </dl>
      <h2>What it held</h2>
      <Summary summary={m.summary} />
      {m.in_progress.length > 0 ? (
        <div class="table-wrap">
          <table>
            <caption>Reports still being stored</caption>
            <thead>
              <tr>
                <th scope="col">Report id</th>
                <th scope="col" class="num">
                  Records stored so far
                </th>
              </tr>
            </thead>
            <tbody>
              {m.in_progress.map((p) => (
                <tr>
                  <td class="mono">{p.report_id}</td>
                  <td class="num">{p.records_ingested}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      <h2>Process it again</h2>
      <p>Replay reads the stored copy and processes it as if it had just arrived.</p>
      <PostButton action="/admin/inbound/replay" hidden={{ ids: String(m.id), back }} label="Replay this message" />
      <p>
        JSON: <a href={`/api/inbound/${m.id}`}>/api/inbound/{m.id}</a>
      </p>
    </>,
  );
}

export const inboundRoutes = new Hono<UiEnv>()
  .get('/inbound', async (c) => listInbound(c, await adminUser(c)))
  .get('/inbound/:id{[0-9]+}', async (c) => showInbound(c, await adminUser(c), c.req.param('id')))
  .post('/inbound/replay', async (c) => {
    const me = await adminUser(c);
    const fields = await formFields(c);
    const back = backTo(field(fields, 'back'));
    const ids = fieldList(fields, 'ids')
      .flatMap((v) => v.split(/[\s,]+/))
      .filter(Boolean);
    const status = field(fields, 'status');
    const body = ids.length > 0 ? { ids: ids.map((v) => (/^[0-9]+$/.test(v) ? Number(v) : v)) } : { status };
    const result = await apiCall<ReplayAnswer>(c, '/api/admin/replay', { method: 'POST', body });
    if (!result.ok) {
      const detail = /^\/admin\/inbound\/([0-9]+)/.exec(back)?.[1];
      return detail ? showInbound(c, me, detail, result.problem) : listInbound(c, me, result.problem);
    }
    const url = new URL(back, c.req.url);
    url.searchParams.set('notice', 'replayed');
    // At most 50 ids in the URL; the count is the whole number.
    url.searchParams.set('replayed', result.data.replayed.slice(0, 50).join(','));
    url.searchParams.set('count', String(result.data.replayed.length));
    if (result.data.missing.length) url.searchParams.set('missing', result.data.missing.join(','));
    if (result.data.purged.length) url.searchParams.set('purged', result.data.purged.map((p) => p.id).join(','));
    return c.redirect(`${url.pathname}${url.search}`, 303);
  });
