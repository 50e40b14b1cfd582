import type { OpenAPIHono, RouteConfig } from '@hono/zod-openapi';
import { createExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import packageJson from '../../package.json';
import { app } from '../../src/api/app';
import worker from '../../src/index';
import { deliverEmail, migrate, reportEmail, sample, settle } from '../ingest/helpers';

const ADMIN = 'test-admin-token-0123456789abcdef';
const LAB_DOMAIN = 'mx-good.checks.lab.mailcheck.test';
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

type Json = Record<string, any>;

async function call(method: string, path: string, options: { token?: string | null; body?: unknown } = {}) {
  const headers = new Headers({ 'CF-Connecting-IP': '192.0.2.205' });
  const token = options.token === undefined ? ADMIN : options.token;
  if (token) headers.set('Authorization', `Bearer ${token}`);
  let body: string | undefined;
  if (options.body !== undefined) {
    body = typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
    headers.set('Content-Type', 'application/json');
  }
  const response = await worker.fetch(new Request(`https://mailcheck.test${path}`, { method, headers, body }), env, createExecutionContext());
  const text = await response.text();
  return { status: response.status, type: response.headers.get('Content-Type') ?? '', text, json: text ? (JSON.parse(text) as Json) : null };
}

/** `method {path}` of every handler the app really serves under /api, Hono's `:name{regex}` as `{name}`. */
function servedRoutes(): Set<string> {
  const served = app.routes
    .filter((r) => r.method !== 'ALL' && r.path.startsWith('/api/'))
    .map((r) => `${r.method.toLowerCase()} ${r.path.replace(/:(\w+)(\{[^}]*\})?/g, '{$1}')}`);
  return new Set(served);
}

let spec: Json;

beforeAll(async () => {
  await migrate();
  const response = await call('GET', '/api/openapi.json', { token: null });
  expect(response.status, response.text).toBe(200);
  expect(response.type).toContain('application/json');
  spec = response.json!;
});

describe('GET /api/openapi.json', () => {
  it('is a well-formed OpenAPI 3.1 document', () => {
    expect(spec.openapi).toBe('3.1.0');
    expect(spec.info).toMatchObject({ title: 'MailCheck Edge API', version: packageJson.version });
    expect(spec.servers).toBeUndefined();
    expect(Object.keys(spec.components.securitySchemes).sort()).toEqual(['bearerAuth', 'cloudflareAccess', 'devSignIn']);
    expect(spec.components.securitySchemes.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer' });

    for (const [path, item] of Object.entries(spec.paths as Record<string, Json>)) {
      expect(path).toMatch(/^\/(api|auth)\//);
      // Every {name} in the path is a required path parameter, and every path parameter is in the path.
      const inPath = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]!).sort();
      for (const method of Object.keys(item)) {
        expect(METHODS, `${method} ${path}`).toContain(method);
        const operation = item[method] as Json;
        const where = `${method.toUpperCase()} ${path}`;
        const parameters = (operation.parameters ?? []) as Json[];
        const pathParameters = parameters.filter((p) => p.in === 'path');
        expect(pathParameters.map((p) => p.name).sort(), where).toEqual(inPath);
        for (const p of pathParameters) expect(p.required, where).toBe(true);
        for (const p of parameters) expect(['path', 'query', 'header', 'cookie'], where).toContain(p.in);
        expect(Object.keys(operation.responses ?? {}).length, where).toBeGreaterThan(0);
        for (const [status, response] of Object.entries(operation.responses as Record<string, Json>)) {
          expect(status, where).toMatch(/^[1-5][0-9X]{2}$|^default$/);
          expect(typeof response.description, where).toBe('string');
        }
        // Security: public routes say so with []; the others name defined schemes only.
        expect(Array.isArray(operation.security), `${where} declares its security`).toBe(true);
        for (const requirement of operation.security as Json[]) {
          for (const scheme of Object.keys(requirement)) expect(spec.components.securitySchemes, where).toHaveProperty(scheme);
        }
      }
    }

    // Every $ref points at something in the document.
    const refs = [...JSON.stringify(spec).matchAll(/"\$ref":"#\/([^"]+)"/g)].map((m) => m[1]!);
    for (const ref of refs) {
      const target = ref.split('/').reduce<unknown>((node, key) => (node as Json | undefined)?.[key], spec);
      expect(target, ref).toBeDefined();
    }
  });

  it('lists every route the app serves under /api, and nothing it does not serve', () => {
    const served = servedRoutes();
    const documented = new Set(
      Object.entries(spec.paths as Record<string, Json>).flatMap(([path, item]) => Object.keys(item).map((method) => `${method} ${path}`)),
    );
    expect([...served].filter((r) => !documented.has(r)), 'served but not in the spec').toEqual([]);
    expect([...documented].filter((r) => !served.has(r)), 'in the spec but not served').toEqual([]);
  });

  it('documents the scope each route needs', () => {
    expect(spec.paths['/api/openapi.json'].get.security).toEqual([]);
    expect(spec.paths['/api/me'].get.security).toContainEqual({ bearerAuth: [] });
  });
});

/** The zod schema a route declares for a JSON response, from the registry the spec is built from. */
function declaredSchema(method: string, path: string, status: number): z.ZodType {
  const registry = (app as unknown as OpenAPIHono).openAPIRegistry;
  const route = registry.definitions.flatMap((d) => (d.type === 'route' ? [d.route as RouteConfig] : [])).find((r) => r.method === method && r.path === path);
  const response = route?.responses[status];
  const media = response && 'content' in response ? response.content?.['application/json'] : undefined;
  if (!media || !('schema' in media) || !(media.schema instanceof z.ZodType)) throw new Error(`${method} ${path} declares no JSON schema for ${status}`);
  return media.schema;
}

describe('responses match their declared schemas', () => {
  const ids = { report: 0, inbound: 0, group: 0 };

  beforeAll(async () => {
    const report = await deliverEmail(reportEmail([{ filename: 'r.xml', contentType: 'text/xml', bytes: sample('extract_report/nice-input.xml') }]));
    await settle(report.inboundId);
    const tls = await deliverEmail(reportEmail([{ filename: 'rfc8460.json', contentType: 'application/json', bytes: sample('smtp_tls/rfc8460.json') }]));
    await settle(tls.inboundId);
    ids.inbound = report.inboundId;
    ids.report = (await env.DB.prepare('SELECT id FROM aggregate_reports WHERE inbound_id = ?').bind(report.inboundId).first<{ id: number }>())!.id;
    ids.group = ((await call('POST', '/api/admin/groups', { body: { name: 'OpenAPI group' } })).json as { id: number }).id;
    await call('POST', '/api/admin/domains', { body: { name: 'example.com' } });
    // A domain of the DNS lab, so a check completes (test/lab/dns/zones/checks.lab.mailcheck.test.zone).
    await call('POST', '/api/admin/domains', { body: { name: LAB_DOMAIN } });
  });

  // [method, the declared path, the request path, the status]
  const cases: [string, string, () => string, number, unknown?][] = [
    ['get', '/api/me', () => '/api/me', 200],
    ['get', '/api/reports', () => '/api/reports', 200],
    ['get', '/api/reports/{id}', () => `/api/reports/${ids.report}?limit=5`, 200],
    ['get', '/api/tls-reports', () => '/api/tls-reports', 200],
    ['get', '/api/stats/daily', () => '/api/stats/daily?domain=example.com', 200],
    ['get', '/api/inbound', () => '/api/inbound?limit=10', 200],
    ['get', '/api/inbound/{id}', () => `/api/inbound/${ids.inbound}`, 200],
    ['post', '/api/admin/replay', () => '/api/admin/replay', 202, { ids: [999_999] }],
    ['get', '/api/metrics', () => '/api/metrics', 200],
    ...['summary', 'timeseries', 'sources', 'reporters', 'services', 'tls', 'records'].map(
      (view): [string, string, () => string, number] => ['get', `/api/aggregatereport/{domain}/${view}`, () => `/api/aggregatereport/example.com/${view}?from=2024-06-01&to=2024-06-30`, 200],
    ),
    ['get', '/api/aggregatereport/{domain}/reject-path', () => '/api/aggregatereport/example.com/reject-path?to=2024-06-30', 200],
    ['get', '/api/digests', () => '/api/digests?week=2024-W24', 200],
    ['get', '/api/digests/{group_id}', () => `/api/digests/${ids.group}?week=2024-W24`, 200],
    ['get', '/api/reverse-dns/map/{base_domain}', () => '/api/reverse-dns/map/mcsv.net', 200],
    ['put', '/api/reverse-dns/map/{base_domain}', () => '/api/reverse-dns/map/openapi-test.example', 201, { name: 'Test', type: 'SaaS' }],
    ['post', '/api/reverse-dns', () => '/api/reverse-dns', 200, { ips: ['192.0.2.1'] }],
    ['get', '/api/domainstatus/{domain}', () => '/api/domainstatus/example.com', 200],
    ['post', '/api/domainstatus/{domain}/recheck', () => `/api/domainstatus/${LAB_DOMAIN}/recheck`, 200],
    ['get', '/api/domainstatus/{domain}', () => `/api/domainstatus/${LAB_DOMAIN}`, 200],
    ['get', '/api/domainstatus/{domain}/history', () => `/api/domainstatus/${LAB_DOMAIN}/history`, 200],
    ['get', '/api/certificates/{domain}', () => `/api/certificates/${LAB_DOMAIN}`, 200],
    ['post', '/api/probe/lease', () => '/api/probe/lease', 200, { agent: 'openapi-test', max: 1 }],
    ['get', '/api/admin/users', () => '/api/admin/users', 200],
    ['post', '/api/admin/users', () => '/api/admin/users', 201, { email: 'openapi@agency.example', name: 'Open API' }],
    ['get', '/api/admin/groups', () => '/api/admin/groups', 200],
    ['get', '/api/admin/domains', () => '/api/admin/domains', 200],
    ['post', '/api/admin/domains/bulk', () => '/api/admin/domains/bulk', 200],
    ['post', '/api/admin/tokens', () => '/api/admin/tokens', 201, { name: 'openapi', scopes: ['read'] }],
    ['get', '/api/admin/tokens', () => '/api/admin/tokens', 200],
    ['get', '/api/admin/audit', () => '/api/admin/audit?entity=user', 200],
  ];

  it.each(cases)('%s %s', async (method, declaredPath, path, status, body) => {
    const response =
      declaredPath === '/api/admin/domains/bulk'
        ? await csvUpload('bulk-openapi.example\nnot a domain\n')
        : await call(method.toUpperCase(), path(), body === undefined ? {} : { body });
    expect(response.status, response.text).toBe(status);
    const parsed = declaredSchema(method, declaredPath, status).safeParse(response.json);
    expect(parsed.success ? [] : parsed.error.issues).toEqual([]);
  });
});

async function csvUpload(text: string) {
  const headers = { Authorization: `Bearer ${ADMIN}`, 'Content-Type': 'text/csv', 'CF-Connecting-IP': '192.0.2.205' };
  const response = await worker.fetch(new Request('https://mailcheck.test/api/admin/domains/bulk', { method: 'POST', headers, body: text }), env, createExecutionContext());
  const raw = await response.text();
  return { status: response.status, text: raw, json: JSON.parse(raw) as Json };
}

describe('invalid input', () => {
  function expectNamed(response: Awaited<ReturnType<typeof call>>, field: string) {
    expect(response.status, response.text).toBe(400);
    expect(response.type).toContain('application/problem+json');
    expect(response.json).toMatchObject({ type: 'about:blank', title: 'Bad Request', status: 400 });
    expect(response.json!.detail).toContain(field);
    expect((response.json!.errors as { path: string }[]).map((e) => e.path)).toContain(field);
  }

  it('answers 400 problems naming the query parameter', async () => {
    expectNamed(await call('GET', '/api/inbound?limit=0'), 'limit');
    expectNamed(await call('GET', '/api/inbound?status=lost'), 'status');
    expectNamed(await call('GET', '/api/reports?since=yesterday'), 'since');
    expectNamed(await call('GET', '/api/stats/daily'), 'domain');
    expectNamed(await call('GET', '/api/admin/domains?group_id=x'), 'group_id');
    expectNamed(await call('GET', '/api/metrics?from=2025-13'), 'from');
    expectNamed(await call('GET', '/api/aggregatereport/example.com/timeseries?interval=month'), 'interval');
  });

  it('answers 400 problems naming the path parameter', async () => {
    expectNamed(await call('GET', '/api/reverse-dns/not-an-address'), 'ip');
    expectNamed(await call('GET', '/api/certificates/sha256/xyz'), 'hash');
  });

  it('answers 400 problems naming the field of a JSON body, or (body)', async () => {
    expectNamed(await call('POST', '/api/admin/users', { body: {} }), 'email');
    expectNamed(await call('POST', '/api/admin/tokens', { body: { name: 'x', scopes: ['everything'] } }), 'scopes.0');
    expectNamed(await call('POST', '/api/reverse-dns', { body: { ips: [] } }), 'ips');
    expectNamed(await call('POST', '/api/probe/lease', { body: { agent: 'a', max: 0 } }), 'max');
    expectNamed(await call('POST', '/api/admin/replay', { body: { status: 'parsed' } }), '(body)');
    expectNamed(await call('POST', '/api/admin/replay', { body: '{"ids": [' }), '(body)');
  });

  it('reads a JSON body sent without a JSON Content-Type, as before', async () => {
    const headers = { Authorization: `Bearer ${ADMIN}`, 'Content-Type': 'application/x-www-form-urlencoded', 'CF-Connecting-IP': '192.0.2.205' };
    const request = new Request('https://mailcheck.test/api/admin/groups', { method: 'POST', headers, body: '{"name": "Sent with curl -d"}' });
    const response = await worker.fetch(request, env, createExecutionContext());
    expect(response.status, await response.text()).toBe(201);
  });

  it('keeps a non-numeric id a 404, as before', async () => {
    const response = await call('GET', '/api/admin/users/abc');
    expect(response.status).toBe(404);
    expect(response.type).toContain('application/problem+json');
  });
});
