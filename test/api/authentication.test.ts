import { createExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { importJWK, SignJWT } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import worker from '../../src/index';
import { migrate } from '../ingest/helpers';

const access = inject('access');

/** The Worker configured for the test Access team, whose JWKS a real local server serves. */
const accessEnv: Env = { ...env, ACCESS_TEAM_DOMAIN: access.teamDomain, ACCESS_AUD: access.audience, ACCESS_JWKS_URL: access.jwksUrl };

async function call(path: string, init: RequestInit = {}, environment: Env = accessEnv, ip = '198.51.100.7') {
  const headers = new Headers(init.headers);
  if (!headers.has('CF-Connecting-IP')) headers.set('CF-Connecting-IP', ip);
  return worker.fetch(new Request(`https://mailcheck.test${path}`, { ...init, headers }), environment, createExecutionContext());
}

async function accessJwt(claims: Record<string, unknown>, options: { key?: Record<string, unknown>; expiresIn?: string | number } = {}) {
  const key = await importJWK(options.key ?? access.privateJwk, 'RS256');
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'RS256', kid: 'test-key-1' })
    .setIssuer((claims.iss as string) ?? access.issuer)
    .setAudience((claims.aud as string) ?? access.audience)
    .setIssuedAt()
    .setExpirationTime(options.expiresIn ?? '5m')
    .sign(key);
}

function unsignedJwt(claims: Record<string, unknown>): string {
  const b64 = (o: unknown) => btoa(JSON.stringify(o)).replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_');
  return `${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims)}.`;
}

beforeAll(async () => {
  await migrate();
  await env.DB.prepare("INSERT OR IGNORE INTO users (email, name, role) VALUES ('ann@agency.example', 'Ann', 'member'), ('root@centre.example', 'Root', 'admin')").run();
});

describe('Cloudflare Access sign-in', () => {
  it('accepts a valid Access JWT and maps its email to the user', async () => {
    const response = await call('/api/me', { headers: { 'Cf-Access-Jwt-Assertion': await accessJwt({ email: 'Ann@Agency.example' }) } });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ kind: 'access', email: 'ann@agency.example', all_domains: false });
  });

  const refused: Array<[string, () => Promise<string>]> = [
    ['a wrong audience', () => accessJwt({ email: 'ann@agency.example', aud: 'another-app' })],
    ['a wrong issuer', () => accessJwt({ email: 'ann@agency.example', iss: 'https://evil.cloudflareaccess.com' })],
    ['an expired token', () => accessJwt({ email: 'ann@agency.example' }, { expiresIn: Math.floor(Date.now() / 1000) - 60 })],
    ['alg: none', async () => unsignedJwt({ email: 'root@centre.example', iss: access.issuer, aud: access.audience, exp: Math.floor(Date.now() / 1000) + 300 })],
    ['a key the team does not publish', () => accessJwt({ email: 'root@centre.example' }, { key: access.strangerJwk })],
    ['garbage', async () => 'not.a.jwt'],
  ];
  for (const [label, make] of refused) {
    it(`refuses ${label} with a 401 problem`, async () => {
      const response = await call('/api/me', { headers: { 'Cf-Access-Jwt-Assertion': await make() } });
      expect(response.status).toBe(401);
      expect(response.headers.get('Content-Type')).toContain('application/problem+json');
      expect(((await response.json()) as { status: number }).status).toBe(401);
    });
  }

  it('caches the team\'s keys instead of fetching them for every request', async () => {
    const fetches = async () => ((await (await fetch(access.jwksUrl.replace('/cdn-cgi/access/certs', '/fetches'))).json()) as { fetches: number }).fetches;
    const jwt = await accessJwt({ email: 'ann@agency.example' });
    expect((await call('/api/me', { headers: { 'Cf-Access-Jwt-Assertion': jwt } })).status).toBe(200);
    const before = await fetches();
    for (let i = 0; i < 3; i++) expect((await call('/api/me', { headers: { 'Cf-Access-Jwt-Assertion': jwt } })).status).toBe(200);
    expect(await fetches()).toBe(before);
    expect(before).toBeGreaterThanOrEqual(1);
  });

  it('refuses people who are not users, unless AUTO_ENROL makes them members of no group', async () => {
    const jwt = await accessJwt({ email: 'new.person@agency.example' });
    expect((await call('/api/me', { headers: { 'Cf-Access-Jwt-Assertion': jwt } })).status).toBe(401);
    const enrolled = await call('/api/me', { headers: { 'Cf-Access-Jwt-Assertion': jwt } }, { ...accessEnv, AUTO_ENROL: 'true' });
    expect(enrolled.status).toBe(200);
    expect(await enrolled.json()).toMatchObject({ email: 'new.person@agency.example', groups: [], domains: [] });
  });

  it('refuses Access JWTs when Access is not configured', async () => {
    const response = await call('/api/me', { headers: { 'Cf-Access-Jwt-Assertion': await accessJwt({ email: 'ann@agency.example' }) } }, env);
    expect(response.status).toBe(401);
  });

  it('answers 401 with a problem body when there is no credential at all', async () => {
    const response = await call('/api/reports');
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ title: 'Unauthorized', status: 401 });
  });
});

describe('development sign-in', () => {
  it('works when ENVIRONMENT=development', async () => {
    const dev = { ...env, ENVIRONMENT: 'development' };
    const signIn = await call('/auth/dev-sign-in?email=ann@agency.example', {}, dev);
    expect(signIn.status).toBe(200);
    const cookie = signIn.headers.get('Set-Cookie')!.split(';')[0]!;
    const me = await call('/api/me', { headers: { Cookie: cookie } }, dev);
    expect(await me.json()).toMatchObject({ kind: 'dev', email: 'ann@agency.example' });
  });

  it('is refused by the production configuration, route and cookie alike', async () => {
    const production = { ...env, ENVIRONMENT: 'production' };
    expect((await call('/auth/dev-sign-in?email=root@centre.example', {}, production)).status).toBe(404);
    const me = await call('/api/me', { headers: { Cookie: 'mailcheck_dev_user=root@centre.example' } }, production);
    expect(me.status).toBe(401);
  });
});

describe('hardening', () => {
  it('puts security headers on every response', async () => {
    for (const path of ['/health', '/api/reports', '/nowhere']) {
      const response = await call(path);
      expect(response.headers.get('Content-Security-Policy')).toContain("frame-ancestors 'none'");
      expect(response.headers.get('Strict-Transport-Security')).toContain('max-age=');
      expect(response.headers.get('X-Content-Type-Options')).toBe('nosniff');
      expect(response.headers.get('Referrer-Policy')).toBe('strict-origin-when-cross-origin');
    }
  });

  it('rate-limits failed authentication per address, without locking out valid credentials there', async () => {
    const ip = '203.0.113.99';
    const statuses: number[] = [];
    for (let i = 0; i < 21; i++) statuses.push((await call('/api/reports', { headers: { Authorization: 'Bearer wrong' } }, env, ip)).status);
    expect(statuses.slice(0, 20).every((s) => s === 401)).toBe(true);
    expect(statuses[20]).toBe(429);
    // Someone else behind the same address (an office NAT) with a valid token is not locked out.
    expect((await call('/api/reports', { headers: { Authorization: 'Bearer test-admin-token-0123456789abcdef' } }, env, ip)).status).toBe(200);
    expect((await call('/api/reports', { headers: { Authorization: 'Bearer wrong' } }, env, '203.0.113.100')).status).toBe(401);
  });

  it('counts an IPv6 /64 as one address for the rate limit', async () => {
    const statuses: number[] = [];
    for (let i = 1; i <= 21; i++) statuses.push((await call('/api/reports', { headers: { Authorization: 'Bearer wrong' } }, env, `2001:db8:77:1::${i.toString(16)}`)).status);
    expect(statuses[19]).toBe(401);
    expect(statuses[20]).toBe(429);
    expect((await call('/api/reports', { headers: { Authorization: 'Bearer wrong' } }, env, '2001:db8:77:2::1')).status).toBe(401);
  });

  it('ignores a bootstrap secret too short to be safe', async () => {
    const weak = { ...env, BOOTSTRAP_ADMIN_TOKEN: 'letmein' };
    expect((await call('/api/reports', { headers: { Authorization: 'Bearer letmein' } }, weak, '203.0.113.150')).status).toBe(401);
  });

  it('refuses a cookie-authenticated mutation that says nothing of where it came from', async () => {
    const dev = { ...env, ENVIRONMENT: 'development' };
    await env.DB.prepare("UPDATE users SET role = 'admin' WHERE email = 'root@centre.example'").run();
    const response = await call('/api/admin/replay', { method: 'POST', body: JSON.stringify({ status: 'failed' }), headers: { Cookie: 'mailcheck_dev_user=root@centre.example' } }, dev);
    expect(response.status).toBe(403);
  });

  it('refuses cross-site mutations authenticated by a cookie (CSRF), not by a bearer token', async () => {
    const dev = { ...env, ENVIRONMENT: 'development' };
    await env.DB.prepare("UPDATE users SET role = 'admin' WHERE email = 'root@centre.example'").run();
    const cookie = 'mailcheck_dev_user=root@centre.example';
    const body = JSON.stringify({ status: 'failed' });
    const crossSite = await call('/api/admin/replay', { method: 'POST', body, headers: { Cookie: cookie, Origin: 'https://evil.example' } }, dev);
    expect(crossSite.status).toBe(403);
    const sameSite = await call('/api/admin/replay', { method: 'POST', body, headers: { Cookie: cookie, Origin: 'https://mailcheck.test' } }, dev);
    expect(sameSite.status).toBe(202);
    const bearer = await call('/api/admin/replay', { method: 'POST', body, headers: { Authorization: 'Bearer test-admin-token-0123456789abcdef', Origin: 'https://evil.example' } }, dev);
    expect(bearer.status).toBe(202);
  });

  it('limits request bodies', async () => {
    const big = 'x'.repeat(1024 * 1024 + 1);
    const response = await call('/api/admin/replay', { method: 'POST', body: big, headers: { Authorization: 'Bearer test-admin-token-0123456789abcdef' } }, env);
    expect(response.status).toBe(413);
  });
});

describe('network policy', () => {
  const limited = { ...env, IP_ALLOWLIST: '192.0.2.0/24, 2001:db8::/32' };
  it('lets only allow-listed addresses reach the API when IP_ALLOWLIST is set', async () => {
    const auth = { headers: { Authorization: 'Bearer test-admin-token-0123456789abcdef' } };
    expect((await call('/api/reports', auth, limited, '192.0.2.44')).status).toBe(200);
    expect((await call('/api/reports', auth, limited, '2001:db8::1')).status).toBe(200);
    expect((await call('/api/reports', auth, limited, '198.51.100.1')).status).toBe(403);
    expect((await call('/api/reports', auth, env, '198.51.100.1')).status).toBe(200);
  });

  it('fails closed on an allow-list entry that is not a full address', async () => {
    const response = await call('/api/reports', { headers: { Authorization: 'Bearer test-admin-token-0123456789abcdef' } }, { ...env, IP_ALLOWLIST: '10/8' }, '10.0.0.1');
    expect(response.status).toBe(500);
  });

  it('sends CORS headers only for the configured origin', async () => {
    const preflight = { method: 'OPTIONS', headers: { Origin: 'https://dash.example', 'Access-Control-Request-Method': 'GET' } };
    const none = await call('/api/reports', preflight, env);
    expect(none.headers.get('Access-Control-Allow-Origin')).toBeNull();
    const configured = await call('/api/reports', preflight, { ...env, CORS_ORIGIN: 'https://dash.example' });
    expect(configured.headers.get('Access-Control-Allow-Origin')).toBe('https://dash.example');
  });
});
