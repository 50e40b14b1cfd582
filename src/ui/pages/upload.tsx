/**
 * /upload: send a report to POST /api/reports (docs/ingest.md), as a file or pasted text. The API
 * takes the raw bytes (a raw email, or a bare .xml, .xml.gz, .zip or .json report) and needs the
 * `ingest` scope, which administrators have; a signed-in administrator may use it (the API's CSRF
 * check judges the browser's own Origin, forwarded by apiCall). Members see why they cannot, and the
 * curl command for an ingest token. Success redirects (post-redirect-get) with the inbound id.
 */
import { Hono } from 'hono';
import { apiCall, currentUser, isAdmin, query, type Me, type Problem, type UiContext, type UiEnv } from '../api-call';
import { page } from '../layout';
import { ErrorSummary } from './admin/common';

interface Receipt {
  inbound_id: number;
  status: 'received' | 'duplicate';
  duplicate_of: number | null;
  sha256: string;
}

function Uploaded(props: { c: UiContext; me: Me }) {
  const q = (name: string) => props.c.req.query(name) ?? '';
  if (q('notice') !== 'uploaded' || !/^[0-9]{1,12}$/.test(q('inbound'))) return null;
  const id = q('inbound');
  const duplicateOf = /^[0-9]{1,12}$/.test(q('duplicate_of')) ? q('duplicate_of') : null;
  const admin = isAdmin(props.me);
  return (
    <div class="notice notice--success" role="status">
      <h2>Report received</h2>
      {q('status') === 'duplicate' ? (
        <p>
          It is message {id}, a duplicate: the same content arrived before
          {duplicateOf ? (admin ? <> as <a href={`/admin/inbound/${duplicateOf}`}>message {duplicateOf}</a></> : ` as message ${duplicateOf}`) : null}, so nothing
          new is stored.
        </p>
      ) : (
        <p>It is message {id}, queued for parsing; its reports appear in a moment.</p>
      )}
      {admin ? (
        <p>
          <a href={`/admin/inbound/${id}`}>Follow message {id}</a>
        </p>
      ) : null}
    </div>
  );
}

function uploadPage(c: UiContext, me: Me, refused?: { problem: Problem; status: 400 | 403 | 413 }) {
  const canUpload = me.scopes.includes('ingest');
  const origin = new URL(c.req.url).origin;
  return page(
    c,
    { title: 'Upload a report', active: 'reports', me, status: refused?.status ?? 200 },
    <>
      <p class="breadcrumbs">
        <a href="/reports">Reports</a>
      </p>
      <h1>Upload a report</h1>
      <p class="lede">Reports normally arrive by email. You can also send one here: a DMARC aggregate or SMTP TLS report file, or a whole report email.</p>
      <Uploaded c={c} me={me} />
      <ErrorSummary problem={refused?.problem} />
      {canUpload ? null : (
        <div class="notice" id="cannot-upload">
          <h2>Your account cannot upload reports</h2>
          <p>Uploading needs the ingest scope: administrators have it, and so do API tokens made with it. Ask an administrator, or use such a token with the command below.</p>
        </div>
      )}
      <form method="post" action="/upload" enctype="multipart/form-data">
        <div class="field">
          <label for="upload-file">Report file</label>
          <p class="hint" id="upload-file-hint">
            .xml, .xml.gz, .zip or .json, or a raw email (.eml). The content decides what it is.
          </p>
          <input type="file" id="upload-file" name="file" aria-describedby="upload-file-hint" accept=".xml,.gz,.zip,.json,.eml,.txt,application/xml,text/xml,application/gzip,application/zip,application/json,message/rfc822" />
        </div>
        <div class="field">
          <label for="upload-text">Or paste the report</label>
          <p class="hint" id="upload-text-hint">
            The XML or JSON of a report, or the source of a report email. Used when no file is chosen.
          </p>
          <textarea id="upload-text" name="content" rows={8} aria-describedby="upload-text-hint" spellcheck={false} />
        </div>
        <button type="submit" class="button">
          Upload
        </button>
      </form>
      <h2>From a script</h2>
      <p>
        Send the file as the request body to <code>POST /api/reports</code> with a token that has the ingest scope. <a href="/api-docs">API and tokens</a> says
        how to get one.
      </p>
      <pre id="upload-curl">{`curl -X POST --data-binary @report.xml.gz \\
  -H "Authorization: Bearer $MAILCHECK_TOKEN" \\
  "${origin}/api/reports?filename=report.xml.gz"`}</pre>
    </>,
  );
}

export const uploadRoutes = new Hono<UiEnv>()
  .get('/upload', async (c) => uploadPage(c, await currentUser(c)))
  .post('/upload', async (c) => {
    const me = await currentUser(c);
    const form = await c.req.parseBody();
    let bytes: Uint8Array | null = null;
    let filename: string | undefined;
    let contentType = 'application/octet-stream';
    if (form.file instanceof File && form.file.size > 0) {
      bytes = new Uint8Array(await form.file.arrayBuffer());
      filename = form.file.name || undefined;
      contentType = form.file.type || contentType;
    } else if (typeof form.content === 'string' && form.content.trim()) {
      bytes = new TextEncoder().encode(form.content.trim());
      const text = form.content.trimStart();
      contentType = text.startsWith('<') ? 'text/xml' : text.startsWith('{') ? 'application/json' : 'message/rfc822';
    }
    if (!bytes) return uploadPage(c, me, { problem: { title: 'Bad Request', status: 400, detail: 'Choose a report file, or paste a report.' }, status: 400 });
    const result = await apiCall<Receipt>(c, `/api/reports${query({ filename })}`, { method: 'POST', body: bytes, contentType });
    if (!result.ok) {
      const status = result.status === 403 ? 403 : result.status === 413 ? 413 : 400;
      return uploadPage(c, me, { problem: result.problem, status });
    }
    const r = result.data;
    return c.redirect(`/upload${query({ notice: 'uploaded', inbound: r.inbound_id, status: r.status, duplicate_of: r.duplicate_of })}`, 303);
  });
