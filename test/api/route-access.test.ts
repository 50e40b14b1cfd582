import { createExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { app } from '../../src/api/app';
import { assetUrl } from '../../src/ui/assets/index';
import worker from '../../src/index';
import { deliverEmail, migrate, reportEmail, sample, settle } from '../ingest/helpers';
import { probeResult } from '../tls/fixtures';

/**
 * Every route the app registers, checked against who may call it. A route added without an entry in
 * ROUTES fails the first test, so nothing ships unprotected by accident.
 */
type Kind =
  | 'public' // no credential needed
  | 'self' // any signed-in principal
  | 'domain' // domain data: members see their groups' domains only, 404 for others
  | 'domain-list' // a list of domain data: members see only their groups' rows
  | 'read' // any principal with the read scope; not tied to a domain (reverse DNS of an address)
  | 'ingest' // needs the ingest scope
  | 'probe' // needs the probe scope (probe agents)
  | 'admin'; // administrators only

interface Ids {
  ownReport: number;
  ownDomain: string;
  spareUser: number;
  spareGroup: number;
  spareDomain: number;
  spareToken: number;
  ownGroup: number;
  memberUser: number;
  ownDomainId: number;
  /** Not in the own group: removing them from it is a no-op that must still answer 204. */
  otherUser: number;
  otherDomainId: number;
  inbound: number;
}

interface Example {
  kind: Kind;
  request: (ids: Ids) => { path: string; body?: unknown; contentType?: string };
  /** Status an administrator gets. */
  adminStatus: number;
  /** Status a member of the owning group gets on domain routes (default 200). */
  ownStatus?: number;
}

const ROUTES: Record<string, Example> = {
  'GET /health': { kind: 'public', request: () => ({ path: '/health' }), adminStatus: 200 },
  // Public by choice: the spec describes the API, not anyone's data (docs/api.md).
  'GET /api/openapi.json': { kind: 'public', request: () => ({ path: '/api/openapi.json' }), adminStatus: 200 },
  'GET /auth/dev-sign-in': { kind: 'public', request: () => ({ path: '/auth/dev-sign-in?email=a@b.example' }), adminStatus: 404 },
  'GET /auth/dev-sign-out': { kind: 'public', request: () => ({ path: '/auth/dev-sign-out' }), adminStatus: 200 },
  'GET /api/me': { kind: 'self', request: () => ({ path: '/api/me' }), adminStatus: 200 },
  'POST /api/reports': { kind: 'ingest', request: () => ({ path: '/api/reports', body: '<feedback/>', contentType: 'text/xml' }), adminStatus: 202 },
  'GET /api/reports': { kind: 'domain-list', request: () => ({ path: '/api/reports' }), adminStatus: 200 },
  'GET /api/reports/:id{[0-9]+}': { kind: 'domain', request: (ids) => ({ path: `/api/reports/${ids.ownReport}` }), adminStatus: 200 },
  'GET /api/tls-reports': { kind: 'domain-list', request: () => ({ path: '/api/tls-reports' }), adminStatus: 200 },
  'GET /api/stats/daily': { kind: 'domain', request: (ids) => ({ path: `/api/stats/daily?domain=${ids.ownDomain}` }), adminStatus: 200 },
  'GET /api/inbound': { kind: 'admin', request: () => ({ path: '/api/inbound' }), adminStatus: 200 },
  'GET /api/inbound/:id{[0-9]+}': { kind: 'admin', request: (ids) => ({ path: `/api/inbound/${ids.inbound}` }), adminStatus: 200 },
  'POST /api/admin/replay': { kind: 'admin', request: (ids) => ({ path: '/api/admin/replay', body: { ids: [ids.inbound] } }), adminStatus: 202 },
  'GET /api/admin/users': { kind: 'admin', request: () => ({ path: '/api/admin/users' }), adminStatus: 200 },
  'POST /api/admin/users': { kind: 'admin', request: () => ({ path: '/api/admin/users', body: { email: 'route-new@agency.example' } }), adminStatus: 201 },
  'GET /api/admin/users/:id{[0-9]+}': { kind: 'admin', request: (ids) => ({ path: `/api/admin/users/${ids.memberUser}` }), adminStatus: 200 },
  'PATCH /api/admin/users/:id{[0-9]+}': { kind: 'admin', request: (ids) => ({ path: `/api/admin/users/${ids.spareUser}`, body: { name: 'Renamed' } }), adminStatus: 200 },
  'DELETE /api/admin/users/:id{[0-9]+}': { kind: 'admin', request: (ids) => ({ path: `/api/admin/users/${ids.spareUser}` }), adminStatus: 204 },
  'GET /api/admin/groups': { kind: 'admin', request: () => ({ path: '/api/admin/groups' }), adminStatus: 200 },
  'POST /api/admin/groups': { kind: 'admin', request: () => ({ path: '/api/admin/groups', body: { name: 'Route test new group' } }), adminStatus: 201 },
  'GET /api/admin/groups/:id{[0-9]+}': { kind: 'admin', request: (ids) => ({ path: `/api/admin/groups/${ids.ownGroup}` }), adminStatus: 200 },
  'PATCH /api/admin/groups/:id{[0-9]+}': { kind: 'admin', request: (ids) => ({ path: `/api/admin/groups/${ids.spareGroup}`, body: { name: 'Route test renamed' } }), adminStatus: 200 },
  'DELETE /api/admin/groups/:id{[0-9]+}': { kind: 'admin', request: (ids) => ({ path: `/api/admin/groups/${ids.spareGroup}` }), adminStatus: 204 },
  'PUT /api/admin/groups/:id{[0-9]+}/members/:userId{[0-9]+}': { kind: 'admin', request: (ids) => ({ path: `/api/admin/groups/${ids.ownGroup}/members/${ids.memberUser}` }), adminStatus: 204 },
  'DELETE /api/admin/groups/:id{[0-9]+}/members/:userId{[0-9]+}': { kind: 'admin', request: (ids) => ({ path: `/api/admin/groups/${ids.ownGroup}/members/${ids.otherUser}` }), adminStatus: 204 },
  'GET /api/admin/domains': { kind: 'admin', request: () => ({ path: '/api/admin/domains' }), adminStatus: 200 },
  'POST /api/admin/domains': { kind: 'admin', request: () => ({ path: '/api/admin/domains', body: { name: 'route-new.example' } }), adminStatus: 201 },
  'POST /api/admin/domains/bulk': { kind: 'admin', request: () => ({ path: '/api/admin/domains/bulk', body: 'bulk-one.example\nbulk-two.example\n', contentType: 'text/csv' }), adminStatus: 200 },
  'GET /api/admin/domains/:id{[0-9]+}': { kind: 'admin', request: (ids) => ({ path: `/api/admin/domains/${ids.ownDomainId}` }), adminStatus: 200 },
  'DELETE /api/admin/domains/:id{[0-9]+}': { kind: 'admin', request: (ids) => ({ path: `/api/admin/domains/${ids.spareDomain}` }), adminStatus: 204 },
  'PUT /api/admin/groups/:id{[0-9]+}/domains/:domainId{[0-9]+}': { kind: 'admin', request: (ids) => ({ path: `/api/admin/groups/${ids.ownGroup}/domains/${ids.ownDomainId}` }), adminStatus: 204 },
  'DELETE /api/admin/groups/:id{[0-9]+}/domains/:domainId{[0-9]+}': { kind: 'admin', request: (ids) => ({ path: `/api/admin/groups/${ids.ownGroup}/domains/${ids.otherDomainId}` }), adminStatus: 204 },
  'GET /api/admin/tokens': { kind: 'admin', request: () => ({ path: '/api/admin/tokens' }), adminStatus: 200 },
  'POST /api/admin/tokens': { kind: 'admin', request: (ids) => ({ path: '/api/admin/tokens', body: { name: 'route test', scopes: ['read'], user_id: ids.memberUser } }), adminStatus: 201 },
  'GET /api/admin/tokens/:id{[0-9]+}': { kind: 'admin', request: (ids) => ({ path: `/api/admin/tokens/${ids.spareToken}` }), adminStatus: 200 },
  'DELETE /api/admin/tokens/:id{[0-9]+}': { kind: 'admin', request: (ids) => ({ path: `/api/admin/tokens/${ids.spareToken}` }), adminStatus: 204 },
  'PUT /api/admin/groups/:id{[0-9]+}/notifications': { kind: 'admin', request: (ids) => ({ path: `/api/admin/groups/${ids.ownGroup}/notifications`, body: { webhook: 'https://hooks.own.example/mailcheck', email: null } }), adminStatus: 200 },
  'GET /api/admin/groups/:id{[0-9]+}/notifications': { kind: 'admin', request: (ids) => ({ path: `/api/admin/groups/${ids.ownGroup}/notifications` }), adminStatus: 200 },
  'GET /api/alerts': { kind: 'domain-list', request: () => ({ path: '/api/alerts' }), adminStatus: 200 },
  'GET /api/alerts/:id{[0-9]+}': { kind: 'domain', request: () => ({ path: `/api/alerts/${OWN_ALERT}` }), adminStatus: 200 },
  // The member acknowledges first (200); the administrator's acknowledgement of it changes nothing (200).
  'POST /api/alerts/:id{[0-9]+}/acknowledge': { kind: 'domain', request: () => ({ path: `/api/alerts/${OWN_ALERT}/acknowledge` }), adminStatus: 200 },
  'GET /api/domainstatus/:domain': { kind: 'domain', request: (ids) => ({ path: `/api/domainstatus/${ids.ownDomain}` }), adminStatus: 200 },
  // example.com is not in the DNS lab (its resolver refuses it): the member's check runs and cannot
  // complete (503); the administrator's, a moment later, is refused by the one-a-minute limit (429).
  'POST /api/domainstatus/:domain/recheck': { kind: 'domain', request: (ids) => ({ path: `/api/domainstatus/${ids.ownDomain}/recheck` }), adminStatus: 429, ownStatus: 503 },
  'GET /api/domains': { kind: 'domain-list', request: () => ({ path: '/api/domains?sort=severity' }), adminStatus: 200 },
  'GET /api/domainstatus/:domain/history': { kind: 'domain', request: (ids) => ({ path: `/api/domainstatus/${ids.ownDomain}/history` }), adminStatus: 200 },
  'GET /api/aggregatereport/:domain/summary': { kind: 'domain', request: (ids) => ({ path: `/api/aggregatereport/${ids.ownDomain}/summary` }), adminStatus: 200 },
  'GET /api/aggregatereport/:domain/timeseries': { kind: 'domain', request: (ids) => ({ path: `/api/aggregatereport/${ids.ownDomain}/timeseries` }), adminStatus: 200 },
  'GET /api/aggregatereport/:domain/sources': { kind: 'domain', request: (ids) => ({ path: `/api/aggregatereport/${ids.ownDomain}/sources` }), adminStatus: 200 },
  'GET /api/aggregatereport/:domain/reporters': { kind: 'domain', request: (ids) => ({ path: `/api/aggregatereport/${ids.ownDomain}/reporters` }), adminStatus: 200 },
  'GET /api/aggregatereport/:domain/services': { kind: 'domain', request: (ids) => ({ path: `/api/aggregatereport/${ids.ownDomain}/services` }), adminStatus: 200 },
  'GET /api/aggregatereport/:domain/tls': { kind: 'domain', request: (ids) => ({ path: `/api/aggregatereport/${ids.ownDomain}/tls` }), adminStatus: 200 },
  'GET /api/aggregatereport/:domain/records': { kind: 'domain', request: (ids) => ({ path: `/api/aggregatereport/${ids.ownDomain}/records` }), adminStatus: 200 },
  'GET /api/aggregatereport/:domain/reject-path': { kind: 'domain', request: (ids) => ({ path: `/api/aggregatereport/${ids.ownDomain}/reject-path` }), adminStatus: 200 },
  'GET /api/digests': { kind: 'domain-list', request: () => ({ path: '/api/digests' }), adminStatus: 200 },
  'GET /api/digests/:group_id{[0-9]+}': { kind: 'domain', request: (ids) => ({ path: `/api/digests/${ids.ownGroup}?week=2024-W24` }), adminStatus: 200 },
  'GET /api/metrics': { kind: 'read', request: () => ({ path: '/api/metrics' }), adminStatus: 200 },
  'GET /api/reverse-dns/:ip': { kind: 'read', request: () => ({ path: '/api/reverse-dns/192.0.2.1' }), adminStatus: 200 },
  'POST /api/reverse-dns': { kind: 'read', request: () => ({ path: '/api/reverse-dns', body: { ips: ['192.0.2.1', '2001:db8::1'] } }), adminStatus: 200 },
  'GET /api/reverse-dns/map/:base_domain': { kind: 'read', request: () => ({ path: '/api/reverse-dns/map/mcsv.net' }), adminStatus: 200 },
  'PUT /api/reverse-dns/map/:base_domain': { kind: 'admin', request: () => ({ path: '/api/reverse-dns/map/route-test.example', body: { name: 'Route Test Mail', type: 'Email Provider' } }), adminStatus: 201 },
  'POST /api/probe/lease': { kind: 'probe', request: () => ({ path: '/api/probe/lease', body: { agent: 'route-test', max: 1 } }), adminStatus: 200 },
  // No job 1 was ever leased: the lease is unknown (409) even to an administrator.
  'POST /api/probe/results': { kind: 'probe', request: () => ({ path: '/api/probe/results', body: { job_id: 1, lease_id: 'none', agent: 'route-test', result: probeResult() } }), adminStatus: 409 },
  'GET /api/certificates/:domain': { kind: 'domain', request: (ids) => ({ path: `/api/certificates/${ids.ownDomain}` }), adminStatus: 200 },
  'GET /api/certificates/sha256/:hash': { kind: 'domain', request: () => ({ path: `/api/certificates/sha256/${OWN_CERTIFICATE}` }), adminStatus: 200 },
  'GET /api/admin/audit': { kind: 'admin', request: () => ({ path: '/api/admin/audit' }), adminStatus: 200 },
  // The web UI (docs/ui.md): its pages get their data from the routes above, as the caller.
  'GET /assets/:file': { kind: 'public', request: () => ({ path: assetUrl('app.css') }), adminStatus: 200 },
  'GET /sign-in': { kind: 'public', request: () => ({ path: '/sign-in' }), adminStatus: 200 },
  // Outside development there is no form to post: back to the start (Access signs people in).
  'POST /sign-in': { kind: 'public', request: () => ({ path: '/sign-in', body: 'email=a%40b.example', contentType: 'application/x-www-form-urlencoded' }), adminStatus: 303 },
  'POST /sign-out': { kind: 'public', request: () => ({ path: '/sign-out' }), adminStatus: 303 },
  'GET /': { kind: 'self', request: () => ({ path: '/?sort=severity' }), adminStatus: 200 },
  'GET /domains/:domain': { kind: 'domain', request: (ids) => ({ path: `/domains/${ids.ownDomain}` }), adminStatus: 200 },
  // The check's outcome (done, throttled, failed) is shown on the domain page after a redirect.
  'POST /domains/:domain/check': { kind: 'domain', request: (ids) => ({ path: `/domains/${ids.ownDomain}/check` }), adminStatus: 303, ownStatus: 303 },
  'POST /domains/add': { kind: 'admin', request: () => ({ path: '/domains/add', body: 'name=ui-route.example', contentType: 'application/x-www-form-urlencoded' }), adminStatus: 303 },
  'POST /domains/bulk': { kind: 'admin', request: () => ({ path: '/domains/bulk', body: 'csv=ui-bulk-1.example%0Aui-bulk-2.example', contentType: 'application/x-www-form-urlencoded' }), adminStatus: 303 },
  'GET /digests': { kind: 'self', request: () => ({ path: '/digests' }), adminStatus: 200 },
  'GET /digests/:group_id{[0-9]+}': { kind: 'domain', request: (ids) => ({ path: `/digests/${ids.ownGroup}?week=2024-W24` }), adminStatus: 200 },
  'GET /domains/:domain/reject-path': { kind: 'domain', request: (ids) => ({ path: `/domains/${ids.ownDomain}/reject-path` }), adminStatus: 200 },
  'GET /alerts': { kind: 'self', request: () => ({ path: '/alerts' }), adminStatus: 200 },
  'POST /alerts/:id{[0-9]+}/acknowledge': { kind: 'domain', request: () => ({ path: `/alerts/${OWN_UI_ALERT}/acknowledge` }), adminStatus: 303, ownStatus: 303 },
  'POST /alerts/preferences/:id{[0-9]+}': { kind: 'admin', request: (ids) => ({ path: `/alerts/preferences/${ids.ownGroup}`, body: 'webhook_format=slack&webhook_kinds=new_source', contentType: 'application/x-www-form-urlencoded' }), adminStatus: 303 },
  // Hosted MTA-STS (docs/mta-sts-hosting.md): owners' groups read the settings, administrators change them.
  'GET /api/mta-sts/:domain': { kind: 'domain', request: (ids) => ({ path: `/api/mta-sts/${ids.ownDomain}` }), adminStatus: 200 },
  'PUT /api/mta-sts/:domain': { kind: 'admin', request: (ids) => ({ path: `/api/mta-sts/${ids.ownDomain}`, body: { enabled: false, mode: 'testing' } }), adminStatus: 200 },
  'GET /domains/:domain/mta-sts': { kind: 'domain', request: (ids) => ({ path: `/domains/${ids.ownDomain}/mta-sts` }), adminStatus: 200 },
  'POST /domains/:domain/mta-sts': { kind: 'admin', request: (ids) => ({ path: `/domains/${ids.ownDomain}/mta-sts`, body: 'mode=testing', contentType: 'application/x-www-form-urlencoded' }), adminStatus: 303 },
  // Retention (docs/retention.md): administrators only.
  'GET /api/admin/retention': { kind: 'admin', request: () => ({ path: '/api/admin/retention' }), adminStatus: 200 },
  'PUT /api/admin/retention/groups/:id{[0-9]+}': { kind: 'admin', request: (ids) => ({ path: `/api/admin/retention/groups/${ids.ownGroup}`, body: { raw_days: null, record_days: 3650 } }), adminStatus: 200 },
  'POST /api/admin/retention/run': { kind: 'admin', request: () => ({ path: '/api/admin/retention/run' }), adminStatus: 200 },
  // No group 999999: the access rule is what is checked here (test/retention/ erases real groups).
  'POST /api/admin/groups/:id{[0-9]+}/erase': { kind: 'admin', request: () => ({ path: '/api/admin/groups/999999/erase' }), adminStatus: 404 },
  'GET /admin/retention': { kind: 'admin', request: () => ({ path: '/admin/retention' }), adminStatus: 200 },
  'POST /admin/retention/groups/:id{[0-9]+}': { kind: 'admin', request: (ids) => ({ path: `/admin/retention/groups/${ids.ownGroup}`, body: 'raw_days=&record_days=3650', contentType: 'application/x-www-form-urlencoded' }), adminStatus: 303 },
  'POST /admin/retention/run': { kind: 'admin', request: () => ({ path: '/admin/retention/run' }), adminStatus: 303 },
  // More UI pages (docs/ui.md): inbound messages and replay, senders, TLS reports, upload, account, API.
  'GET /admin/inbound': { kind: 'admin', request: () => ({ path: '/admin/inbound?status=parsed' }), adminStatus: 200 },
  'GET /admin/inbound/:id{[0-9]+}': { kind: 'admin', request: (ids) => ({ path: `/admin/inbound/${ids.inbound}` }), adminStatus: 200 },
  'POST /admin/inbound/replay': { kind: 'admin', request: (ids) => ({ path: '/admin/inbound/replay', body: `ids=${ids.inbound}`, contentType: 'application/x-www-form-urlencoded' }), adminStatus: 303 },
  'GET /senders': { kind: 'read', request: () => ({ path: '/senders?ip=192.0.2.1&base_domain=mcsv.net' }), adminStatus: 200 },
  'POST /senders/lookup': { kind: 'read', request: () => ({ path: '/senders/lookup', body: 'ips=192.0.2.1%0A2001%3Adb8%3A%3A1', contentType: 'application/x-www-form-urlencoded' }), adminStatus: 200 },
  'POST /senders/map': { kind: 'admin', request: () => ({ path: '/senders/map', body: 'base_domain=route-ui-test.example&name=Route+UI+Mail&type=Email+Provider', contentType: 'application/x-www-form-urlencoded' }), adminStatus: 303 },
  'GET /tls-reports': { kind: 'read', request: () => ({ path: '/tls-reports' }), adminStatus: 200 },
  // Anyone signed in sees the page (members: why they cannot upload, and the curl command); the API decides the upload.
  'GET /upload': { kind: 'self', request: () => ({ path: '/upload' }), adminStatus: 200 },
  'POST /upload': { kind: 'ingest', request: () => ({ path: '/upload', body: 'content=%3Cfeedback%2F%3E', contentType: 'application/x-www-form-urlencoded' }), adminStatus: 303 },
  'GET /account': { kind: 'self', request: () => ({ path: '/account' }), adminStatus: 200 },
  // Reports and metrics pages (docs/ui.md): the statistics routes' rules, as the caller.
  'GET /reports': { kind: 'self', request: () => ({ path: '/reports' }), adminStatus: 200 },
  'GET /domains/:domain/reports': { kind: 'domain', request: (ids) => ({ path: `/domains/${ids.ownDomain}/reports?from=2024-06-01&to=2024-06-30` }), adminStatus: 200 },
  'GET /domains/:domain/reports/records': { kind: 'domain', request: (ids) => ({ path: `/domains/${ids.ownDomain}/reports/records?from=2024-06-01&to=2024-06-30` }), adminStatus: 200 },
  'GET /reports/:id{[0-9]+}': { kind: 'domain', request: (ids) => ({ path: `/reports/${ids.ownReport}` }), adminStatus: 200 },
  'GET /metrics': { kind: 'read', request: () => ({ path: '/metrics' }), adminStatus: 200 },
  // Administration pages: the admin API's rule. Changes aimed at group/user/domain 999999 check the rule
  // without touching the rows other entries here use (an administrator gets the API's 404 as a page).
  'GET /admin': { kind: 'admin', request: () => ({ path: '/admin' }), adminStatus: 200 },
  'GET /admin/users': { kind: 'admin', request: () => ({ path: '/admin/users' }), adminStatus: 200 },
  'POST /admin/users': { kind: 'admin', request: () => ({ path: '/admin/users', body: 'email=route-ui-user%40agency.example&role=member', contentType: 'application/x-www-form-urlencoded' }), adminStatus: 303 },
  'GET /admin/users/:id{[0-9]+}': { kind: 'admin', request: (ids) => ({ path: `/admin/users/${ids.memberUser}` }), adminStatus: 200 },
  'POST /admin/users/:id{[0-9]+}': { kind: 'admin', request: () => ({ path: '/admin/users/999999', body: 'name=Nobody&role=member', contentType: 'application/x-www-form-urlencoded' }), adminStatus: 404 },
  'POST /admin/users/:id{[0-9]+}/delete': { kind: 'admin', request: () => ({ path: '/admin/users/999999/delete' }), adminStatus: 404 },
  'GET /admin/groups': { kind: 'admin', request: () => ({ path: '/admin/groups' }), adminStatus: 200 },
  'POST /admin/groups': { kind: 'admin', request: () => ({ path: '/admin/groups', body: 'name=Route+UI+group', contentType: 'application/x-www-form-urlencoded' }), adminStatus: 303 },
  'GET /admin/groups/:id{[0-9]+}': { kind: 'admin', request: (ids) => ({ path: `/admin/groups/${ids.ownGroup}` }), adminStatus: 200 },
  'POST /admin/groups/:id{[0-9]+}': { kind: 'admin', request: () => ({ path: '/admin/groups/999999', body: 'name=Renamed', contentType: 'application/x-www-form-urlencoded' }), adminStatus: 404 },
  'POST /admin/groups/:id{[0-9]+}/delete': { kind: 'admin', request: () => ({ path: '/admin/groups/999999/delete' }), adminStatus: 404 },
  'POST /admin/groups/:id{[0-9]+}/members': { kind: 'admin', request: () => ({ path: '/admin/groups/999999/members', body: 'email=nobody%40agency.example', contentType: 'application/x-www-form-urlencoded' }), adminStatus: 404 },
  'POST /admin/groups/:id{[0-9]+}/members/:userId{[0-9]+}/remove': { kind: 'admin', request: () => ({ path: '/admin/groups/999999/members/999999/remove' }), adminStatus: 404 },
  'POST /admin/groups/:id{[0-9]+}/domains': { kind: 'admin', request: () => ({ path: '/admin/groups/999999/domains', body: 'domain=example.com', contentType: 'application/x-www-form-urlencoded' }), adminStatus: 404 },
  'POST /admin/groups/:id{[0-9]+}/domains/:domainId{[0-9]+}/unlink': { kind: 'admin', request: () => ({ path: '/admin/groups/999999/domains/999999/unlink' }), adminStatus: 404 },
  'POST /admin/groups/:id{[0-9]+}/notifications': { kind: 'admin', request: () => ({ path: '/admin/groups/999999/notifications', body: 'webhook=&email=', contentType: 'application/x-www-form-urlencoded' }), adminStatus: 404 },
  'GET /admin/domains': { kind: 'admin', request: () => ({ path: '/admin/domains' }), adminStatus: 200 },
  'POST /admin/domains': { kind: 'admin', request: () => ({ path: '/admin/domains', body: 'name=route-ui-admin.example', contentType: 'application/x-www-form-urlencoded' }), adminStatus: 303 },
  // The outcome lists what was skipped and why, so it answers at once rather than after a redirect.
  'POST /admin/domains/bulk': { kind: 'admin', request: () => ({ path: '/admin/domains/bulk', body: 'csv=route-ui-bulk-1.example%0Aroute-ui-bulk-2.example', contentType: 'application/x-www-form-urlencoded' }), adminStatus: 200 },
  'POST /admin/domains/:id{[0-9]+}/delete': { kind: 'admin', request: () => ({ path: '/admin/domains/999999/delete' }), adminStatus: 404 },
  'GET /admin/tokens': { kind: 'admin', request: () => ({ path: '/admin/tokens' }), adminStatus: 200 },
  // The new token is shown on the page answering the POST (never in a redirect's URL).
  'POST /admin/tokens': { kind: 'admin', request: () => ({ path: '/admin/tokens', body: 'name=route-ui-token&scopes=read&email=member%40own.example', contentType: 'application/x-www-form-urlencoded' }), adminStatus: 201 },
  'POST /admin/tokens/:id{[0-9]+}/revoke': { kind: 'admin', request: () => ({ path: '/admin/tokens/999999/revoke' }), adminStatus: 404 },
  'GET /admin/audit': { kind: 'admin', request: () => ({ path: '/admin/audit' }), adminStatus: 200 },
  'GET /api-docs': { kind: 'self', request: () => ({ path: '/api-docs' }), adminStatus: 200 },
};

/** Alerts of example.com (inserted in beforeAll, as an evaluation would): one for the API, one for the UI. */
const OWN_ALERT = 9001;
const OWN_UI_ALERT = 9002;

/** A certificate an MX server of example.com presents (stored in beforeAll, as a probe result would). */
const OWN_CERTIFICATE = 'c'.repeat(64);

let addressCounter = 0;
/** A fresh client address per failing call, so the failed-authentication rate limit stays out of the way. */
const freshAddress = () => `198.18.${Math.floor(++addressCounter / 250)}.${addressCounter % 250}`;

async function send(method: string, example: Example, ids: Ids, token: string | null) {
  const { path, body, contentType } = example.request(ids);
  const headers = new Headers({ 'CF-Connecting-IP': freshAddress() });
  if (token) headers.set('Authorization', `Bearer ${token}`);
  let payload: string | undefined;
  if (body !== undefined) {
    payload = typeof body === 'string' ? body : JSON.stringify(body);
    headers.set('Content-Type', contentType ?? 'application/json');
  }
  const response = await worker.fetch(new Request(`https://mailcheck.test${path}`, { method, headers, body: payload }), env, createExecutionContext());
  return { status: response.status, text: await response.text() };
}

async function admin<T>(method: string, path: string, body?: unknown): Promise<T> {
  const response = await worker.fetch(
    new Request(`https://mailcheck.test${path}`, {
      method,
      headers: { Authorization: 'Bearer test-admin-token-0123456789abcdef', 'Content-Type': 'application/json', 'CF-Connecting-IP': '192.0.2.250' },
      body: body === undefined ? undefined : JSON.stringify(body),
    }),
    env,
    createExecutionContext(),
  );
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
  return (response.status === 204 ? null : await response.json()) as T;
}

const tokens = { member: '', otherMember: '', revoked: '', expired: '', admin: '' };
let ids: Ids;

beforeAll(async () => {
  await migrate();
  // The data: an aggregate report and a TLS report for example.com (owned by group "Own"), none for "Other".
  const report = await deliverEmail(reportEmail([{ filename: 'r.xml', contentType: 'text/xml', bytes: sample('extract_report/nice-input.xml') }]));
  await settle(report.inboundId);
  const tls = await deliverEmail(reportEmail([{ filename: 'rfc8460.json', contentType: 'application/json', bytes: sample('smtp_tls/rfc8460.json') }]));
  await settle(tls.inboundId);
  const ownReport = (await env.DB.prepare("SELECT id FROM aggregate_reports WHERE domain = 'example.com'").first<{ id: number }>())!.id;

  type Created = { id: number };
  const ownGroup = await admin<Created>('POST', '/api/admin/groups', { name: 'Own agency' });
  const otherGroup = await admin<Created>('POST', '/api/admin/groups', { name: 'Other agency' });
  const spareGroup = await admin<Created>('POST', '/api/admin/groups', { name: 'Spare agency' });
  const ownDomain = await admin<Created>('POST', '/api/admin/domains', { name: 'example.com', group_ids: [ownGroup.id] });
  await admin('POST', '/api/admin/domains', { name: 'company-y.example', group_ids: [ownGroup.id] });
  const otherDomain = await admin<Created>('POST', '/api/admin/domains', { name: 'other-agency.example', group_ids: [otherGroup.id] });
  const spareDomain = await admin<Created>('POST', '/api/admin/domains', { name: 'spare.example' });
  const member = await admin<Created>('POST', '/api/admin/users', { email: 'member@own.example', role: 'member' });
  const otherMember = await admin<Created>('POST', '/api/admin/users', { email: 'member@other.example', role: 'member' });
  const spareUser = await admin<Created>('POST', '/api/admin/users', { email: 'spare@own.example' });
  await admin('PUT', `/api/admin/groups/${ownGroup.id}/members/${member.id}`);
  await admin('PUT', `/api/admin/groups/${otherGroup.id}/members/${otherMember.id}`);

  type Token = { id: number; token: string };
  tokens.member = (await admin<Token>('POST', '/api/admin/tokens', { name: 'member', scopes: ['read'], user_id: member.id })).token;
  tokens.otherMember = (await admin<Token>('POST', '/api/admin/tokens', { name: 'other', scopes: ['read'], user_id: otherMember.id })).token;
  tokens.admin = (await admin<Token>('POST', '/api/admin/tokens', { name: 'service admin', scopes: ['admin'] })).token;
  const revoked = await admin<Token>('POST', '/api/admin/tokens', { name: 'revoked', scopes: ['admin'] });
  await admin('DELETE', `/api/admin/tokens/${revoked.id}`);
  tokens.revoked = revoked.token;
  const expired = await admin<Token>('POST', '/api/admin/tokens', { name: 'expired', scopes: ['admin'], expires_in_days: 1 });
  await env.DB.prepare("UPDATE api_tokens SET expires_at = '2020-01-01T00:00:00Z' WHERE id = ?").bind(expired.id).run();
  tokens.expired = expired.token;
  const spareToken = await admin<Token>('POST', '/api/admin/tokens', { name: 'spare', scopes: ['read'] });

  await env.DB.batch([
    env.DB.prepare("INSERT INTO mx_addresses (domain, host, ip, preference) VALUES ('example.com', 'mx.example.com', '192.0.2.25', 10)"),
    env.DB.prepare("INSERT INTO tls_server_certificates (ip, port, position, sha256) VALUES ('192.0.2.25', 25, 0, ?)").bind(OWN_CERTIFICATE),
    env.DB.prepare("INSERT INTO tls_certificates (sha256, der, subject, issuer, not_before, not_after) VALUES (?, 'MIIB', 'CN=mx.example.com', 'CN=CA', '2026-01-01T00:00:00Z', '2027-01-01T00:00:00Z')").bind(OWN_CERTIFICATE),
    env.DB.prepare("INSERT INTO alerts (id, domain, kind, subject, severity, title, detail) VALUES (?, 'example.com', 'record_changed', 'dmarc', 'warning', 'DMARC record changed', '{}'), (?, 'example.com', 'record_changed', 'spf', 'warning', 'SPF record changed', '{}')").bind(OWN_ALERT, OWN_UI_ALERT),
  ]);

  ids = {
    ownReport,
    ownDomain: 'example.com',
    spareUser: spareUser.id,
    spareGroup: spareGroup.id,
    spareDomain: spareDomain.id,
    spareToken: spareToken.id,
    ownGroup: ownGroup.id,
    memberUser: member.id,
    ownDomainId: ownDomain.id,
    otherUser: otherMember.id,
    otherDomainId: otherDomain.id,
    inbound: report.inboundId,
  };
});

/** A gzip-free XML report for one domain, one record. */
function oneRecordReport(reportId: string, domain: string): Uint8Array {
  return new TextEncoder().encode(`<feedback><report_metadata><org_name>Receiver</org_name><email>r@receiver.example</email><report_id>${reportId}</report_id><date_range><begin>1735689600</begin><end>1735775999</end></date_range></report_metadata><policy_published><domain>${domain}</domain><p>none</p></policy_published><record><row><source_ip>192.0.2.1</source_ip><count>1</count><policy_evaluated><disposition>none</disposition><dkim>pass</dkim><spf>pass</spf></policy_evaluated></row><identifiers><header_from>${domain}</header_from></identifiers></record></feedback>`);
}

async function ingest(name: string, bytes: Uint8Array, contentType = 'text/xml') {
  const { inboundId } = await deliverEmail(reportEmail([{ filename: name, contentType, bytes }]));
  return settle(inboundId);
}

async function asMember(token: string, path: string) {
  const response = await worker.fetch(new Request(`https://mailcheck.test${path}`, { headers: { Authorization: `Bearer ${token}`, 'CF-Connecting-IP': '192.0.2.251' } }), env, createExecutionContext());
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

describe('what a member sees', () => {
  it('sees sub-domains of their domains, and nothing of look-alike names', async () => {
    expect((await ingest('sub.xml', oneRecordReport('sub-1', 'Mail.Example.com.'))).status).toBe('parsed');
    expect((await ingest('alike.xml', oneRecordReport('alike-1', 'notexample.com'))).status).toBe('parsed');
    const list = await asMember(tokens.member, '/api/reports?limit=500');
    const domains = (list.json.items as { domain: string }[]).map((r) => r.domain);
    expect(domains).toContain('mail.example.com');
    expect(domains).not.toContain('notexample.com');
    expect((await asMember(tokens.member, '/api/stats/daily?domain=mail.example.com')).status).toBe(200);
    expect((await asMember(tokens.member, '/api/stats/daily?domain=notexample.com')).status).toBe(404);
    expect((await asMember(tokens.member, '/api/reports?domain=other-agency.example')).status).toBe(404);
    expect((await asMember(tokens.otherMember, '/api/reports?domain=MAIL.example.com')).status).toBe(404);
  });

  it('sees only the policies of their own domains in a TLS report that covers several', async () => {
    const json = JSON.stringify({
      'organization-name': 'Shared Sender',
      'date-range': { 'start-datetime': '2025-01-01T00:00:00Z', 'end-datetime': '2025-01-01T23:59:59Z' },
      'contact-info': 'tls@sender.example',
      'report-id': 'two-domains-1',
      policies: ['company-y.example', 'other-agency.example'].map((domain) => ({
        policy: { 'policy-type': 'sts', 'policy-string': ['version: STSv1', 'mode: enforce'], 'policy-domain': domain, 'mx-host': [`mx.${domain}`] },
        summary: { 'total-successful-session-count': 10, 'total-failure-session-count': 0 },
      })),
    });
    expect((await ingest('two.json', new TextEncoder().encode(json), 'application/tlsrpt+json')).status).toBe('parsed');
    const mine = await asMember(tokens.member, '/api/tls-reports?limit=500');
    const report = (mine.json.items as { report_id: string; policies: { policy_domain: string }[] }[]).find((r) => r.report_id === 'two-domains-1');
    expect(report?.policies.map((p) => p.policy_domain)).toEqual(['company-y.example']);
    const theirs = await asMember(tokens.otherMember, '/api/tls-reports?limit=500');
    const same = (theirs.json.items as { report_id: string; policies: { policy_domain: string }[] }[]).find((r) => r.report_id === 'two-domains-1');
    expect(same?.policies.map((p) => p.policy_domain)).toEqual(['other-agency.example']);
  });

  it('takes administrator rights away from a demoted user\'s token at once', async () => {
    type Created = { id: number; token: string };
    const lead = await admin<Created>('POST', '/api/admin/users', { email: 'lead@centre.example', role: 'admin' });
    const token = (await admin<Created>('POST', '/api/admin/tokens', { name: 'lead', scopes: ['admin'], user_id: lead.id })).token;
    expect((await asMember(token, '/api/admin/users')).status).toBe(200);
    await admin('PATCH', `/api/admin/users/${lead.id}`, { role: 'member' });
    expect((await asMember(token, '/api/admin/users')).status).toBe(403);
    expect((await asMember(token, '/api/me')).json).toMatchObject({ all_domains: false });
  });
});

/** `.use()` middleware registers as ALL on these paths; any other ALL route is a real route and needs a rule. */
const MIDDLEWARE_PATHS = new Set(['/*', '/api/*']);
const registered = [...new Set(app.routes.filter((r) => !(r.method === 'ALL' && MIDDLEWARE_PATHS.has(r.path))).map((r) => `${r.method} ${r.path}`))];

describe('every route has an access rule', () => {
  it('lists each registered route in the table, and nothing else', () => {
    expect(registered.filter((r) => !(r in ROUTES))).toEqual([]);
    expect(Object.keys(ROUTES).filter((r) => !registered.includes(r))).toEqual([]);
  });
});

describe.each(Object.entries(ROUTES))('%s', (route, example) => {
  const method = route.split(' ')[0]!;
  const guarded = example.kind !== 'public';

  if (guarded) it('anonymous → 401', async () => {
    expect((await send(method, example, ids, null)).status).toBe(401);
  });
  if (guarded) it('revoked or expired token → 401', async () => {
    expect((await send(method, example, ids, tokens.revoked)).status).toBe(401);
    expect((await send(method, example, ids, tokens.expired)).status).toBe(401);
  });
  if (example.kind === 'admin' || example.kind === 'ingest' || example.kind === 'probe') it('member → 403', async () => {
    expect((await send(method, example, ids, tokens.member)).status).toBe(403);
  });
  if (example.kind === 'domain') it('member of another group → 404; member of the owning group → 200', async () => {
    expect((await send(method, example, ids, tokens.otherMember)).status).toBe(404);
    expect((await send(method, example, ids, tokens.member)).status).toBe(example.ownStatus ?? 200);
  });
  if (example.kind === 'domain-list') it('member of another group sees none of it; member of the owning group sees it', async () => {
    const other = await send(method, example, ids, tokens.otherMember);
    expect(other.status).toBe(200);
    // Nothing of the own group's domains (example.com, its sub-domains, company-y.example).
    expect(other.text).not.toMatch(/"(?:[a-z0-9.-]+\.)?example\.com"|company-y\.example/);
    const own = await send(method, example, ids, tokens.member);
    expect(own.status).toBe(200);
    expect((JSON.parse(own.text) as { items: unknown[] }).items.length).toBeGreaterThan(0);
  });
  if (example.kind === 'read') it('members of any group → 200', async () => {
    expect((await send(method, example, ids, tokens.member)).status).toBe(200);
    expect((await send(method, example, ids, tokens.otherMember)).status).toBe(200);
  });
  if (example.kind === 'self') it('any signed-in principal → 200', async () => {
    expect((await send(method, example, ids, tokens.member)).status).toBe(200);
    expect((await send(method, example, ids, tokens.otherMember)).status).toBe(200);
  });
  it(`administrator → ${example.adminStatus}`, async () => {
    const response = await send(method, example, ids, tokens.admin);
    expect(response.status, response.text).toBe(example.adminStatus);
  });
});
