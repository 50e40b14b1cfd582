/**
 * /api-docs: the JSON API for people who script: where the OpenAPI spec is, the conventions of
 * docs/api.md in short, how to get a token, and every operation the spec lists (GET
 * /api/openapi.json, public, read in-process like any other call).
 */
import { Hono } from 'hono';
import { apiCall, currentUser, isAdmin, type UiEnv } from '../api-call';
import { page } from '../layout';

interface Operation {
  summary?: string;
  tags?: string[];
  security?: Record<string, string[]>[];
}

interface Spec {
  info?: { title?: string; version?: string };
  paths?: Record<string, Record<string, Operation>>;
}

const METHODS = ['get', 'post', 'put', 'patch', 'delete'];

/** Who may call an operation, from its security requirement (docs/api.md). */
function who(op: Operation): string {
  if (Array.isArray(op.security) && op.security.length === 0) return 'Anyone (public)';
  const roles = new Set((op.security ?? []).flatMap((r) => Object.values(r).flat()));
  return roles.size === 0 ? 'Anyone signed in' : [...roles].join(', ');
}

export const apiDocsRoutes = new Hono<UiEnv>().get('/api-docs', async (c) => {
  const me = await currentUser(c);
  const spec = await apiCall<Spec>(c, '/api/openapi.json');
  const origin = new URL(c.req.url).origin;
  const operations = spec.ok
    ? Object.entries(spec.data.paths ?? {}).flatMap(([path, item]) =>
        METHODS.filter((m) => item[m]).map((m) => ({ method: m.toUpperCase(), path, op: item[m] as Operation, tag: (item[m] as Operation).tags?.[0] ?? 'other' })),
      )
    : [];
  const tags = [...new Set(operations.map((o) => o.tag))].sort();
  return page(
    c,
    { title: 'API and specification', me },
    <>
      <h1>API and specification</h1>
      <p class="lede">Everything these pages show comes from a JSON API, which scripts can use too.</p>

      <h2>The specification</h2>
      <p>
        The API is described by an OpenAPI 3.1 document at <a href="/api/openapi.json">/api/openapi.json</a>
        {spec.ok && spec.data.info?.version ? ` (version ${spec.data.info.version})` : ''}. It is public: tools such as Swagger UI, Postman or client generators can
        load it without a token.
      </p>
      <pre>{`curl ${origin}/api/openapi.json > openapi.json`}</pre>

      <h2>Tokens</h2>
      <p>
        Scripts send <code>Authorization: Bearer &lt;token&gt;</code>. A token has scopes: <strong>read</strong> (statistics, reports and checks of the domains it
        sees), <strong>ingest</strong> (upload reports), <strong>probe</strong> (TLS probe agents) and <strong>admin</strong> (everything).
      </p>
      {isAdmin(me) ? (
        <p>
          Create one on the <a href="/admin/tokens">API tokens</a> page. It is shown once, when it is created.
        </p>
      ) : (
        <p>Ask an administrator to create a token for you. It is shown once, when it is created.</p>
      )}
      <pre>{`curl -H "Authorization: Bearer $MAILCHECK_TOKEN" ${origin}/api/me`}</pre>

      <h2>Conventions</h2>
      <ul>
        <li>
          Errors are RFC 9457 problem documents (<code>application/problem+json</code>) with <code>title</code>, <code>status</code> and <code>detail</code>.
          Invalid input is a 400 whose <code>errors</code> list names each field.
        </li>
        <li>
          Lists are paged by keyset: <code>limit</code> (1 to 500, default 50) and <code>cursor</code>, the previous page's <code>next_cursor</code> (null on the
          last page).
        </li>
        <li>
          Send JSON bodies as <code>application/json</code>. <code>POST /api/reports</code> takes the raw report or email; <code>POST /api/admin/domains/bulk</code>{' '}
          takes CSV.
        </li>
        <li>
          The statistics views under <code>/api/aggregatereport/&#123;domain&#125;/</code> answer CSV with <code>format=csv</code>.
        </li>
        <li>Domain data of groups you are not in answers 404, whatever the scope.</li>
        <li>
          <a href="/account">Your account</a> is what <code>GET /api/me</code> says about you.
        </li>
      </ul>

      <h2>Every operation</h2>
      {spec.ok ? (
        tags.map((tag) => (
          <div class="table-wrap">
            <table class="stack" id={`operations-${tag}`}>
              <caption>Operations tagged {tag}</caption>
              <thead>
                <tr>
                  <th scope="col">Method and path</th>
                  <th scope="col">What it does</th>
                  <th scope="col">Who may call it</th>
                </tr>
              </thead>
              <tbody>
                {operations
                  .filter((o) => o.tag === tag)
                  .map((o) => (
                    <tr>
                      <th scope="row" class="mono">
                        {o.method} {o.path}
                      </th>
                      <td data-label="What it does">{o.op.summary ?? '–'}</td>
                      <td data-label="Who may call it">{who(o.op)}</td>
                    </tr>
                  ))}
              </tbody>
            </table>
          </div>
        ))
      ) : (
        <p>The specification could not be read just now: open it directly at the link above.</p>
      )}
    </>,
  );
});
