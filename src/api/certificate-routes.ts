import { createRoute } from '@hono/zod-openapi';
import { sql } from 'drizzle-orm';
import { z } from 'zod';
import { visibleDomain } from '../auth/domain-access';
import { database } from '../db/client';
import { domainKey } from '../lib/domain-name';
import { latestCheck } from '../monitor/store-check';
import { domainCertificates } from '../monitor/tls-store';
import { visibleMonitoredDomain } from './domain-status-routes';
import { ApiRouter } from './openapi/api-router';
import { findingSchema } from './openapi/check-schemas';
import { json, problems } from './openapi/responses';
import { access } from './openapi/security';
import { problem } from './problem';

const certificate = { tags: ['domain status'] };

const domainCertificatesRoute = createRoute({
  method: 'get',
  path: '/certificates/{domain}',
  summary: "The certificates a domain's mail servers present, with their findings",
  ...certificate,
  ...access('read', visibleMonitoredDomain),
  request: { params: z.object({ domain: z.string().meta({ description: 'A monitored domain the caller may see.' }) }) },
  responses: {
    200: json(
      z.object({
        domain: z.string(),
        pending: z.boolean(),
        servers: z.array(
          z.looseObject({
            host: z.string(),
            preference: z.int(),
            ip: z.string(),
            port: z.int(),
            pending: z.boolean(),
            scanned_at: z.string().nullable(),
            strict: z.boolean(),
            certificates: z.array(z.looseObject({ sha256: z.string() })).meta({ description: 'The chain as sent, leaf first, without the DER.' }),
            chain: z.looseObject({}).nullable(),
            dane: z.looseObject({}).nullable(),
            findings: z.array(findingSchema),
          }),
        ),
      }),
      'Per MX host and IP.',
    ),
    ...problems(401, 403, 404),
  },
});

const certificateRoute = createRoute({
  method: 'get',
  path: '/certificates/sha256/{hash}',
  summary: 'One certificate by its SHA-256, with its DER and PEM',
  ...certificate,
  ...access('read'),
  request: { params: z.object({ hash: z.string().regex(/^[0-9a-fA-F]{64}$/, 'must be 64 hex digits (SHA-256 of the DER certificate)') }) },
  responses: {
    200: json(
      z.object({
        sha256: z.string(),
        der: z.string().meta({ description: 'Base64.' }),
        subject: z.string(),
        issuer: z.string(),
        not_before: z.string(),
        not_after: z.string(),
        first_seen_at: z.string(),
        last_seen_at: z.string(),
        pem: z.string(),
      }),
      'The certificate.',
    ),
    ...problems(400, 401, 403, 404),
  },
});

/**
 * What a domain's mail servers present (the seed's /api/certificates): per MX host and IP the chain,
 * the verification facts and the certificate findings, strict when the domain asks senders to
 * authenticate (MTA-STS enforce or DANE); and one certificate by its SHA-256 with its DER.
 */
export const certificateRoutes = new ApiRouter()
  .declare(domainCertificatesRoute, async (c) => {
    const domain = domainKey(c.req.param('domain'));
    const latest = await latestCheck(c.env.DB, domain);
    const servers = await domainCertificates(c.env.DB, domain, latest?.check ?? null);
    return c.json({ domain, pending: servers.length === 0 || servers.every((s) => s.pending), servers });
  })
  .declare(certificateRoute, async (c) => {
    const hash = c.req.valid('param').hash.toLowerCase();
    // Visible when a server presenting it is an MX of a domain the caller sees (404 otherwise, as for domains).
    const condition = visibleDomain(c.get('principal'), sql`m.domain`) ?? sql`1`;
    const row = await database(c.env.DB).get<{ sha256: string; der: string; subject: string; issuer: string; not_before: string; not_after: string; first_seen_at: string; last_seen_at: string } | undefined>(
      sql`SELECT c.sha256, c.der, c.subject, c.issuer, c.not_before, c.not_after, c.first_seen_at, c.last_seen_at FROM tls_certificates c
          WHERE c.sha256 = ${hash} AND EXISTS (SELECT 1 FROM tls_server_certificates s JOIN mx_addresses m ON m.ip = s.ip
            WHERE s.sha256 = c.sha256 AND ${condition})`,
    );
    if (!row) return problem(c, 404, 'Not Found', `No certificate ${hash} on a mail server you can see.`);
    const pem = `-----BEGIN CERTIFICATE-----\n${(row.der.match(/.{1,64}/g) ?? []).join('\n')}\n-----END CERTIFICATE-----\n`;
    return c.json({ ...row, pem });
  });
