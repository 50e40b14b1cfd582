import { sql } from 'drizzle-orm';
import { Hono } from 'hono';
import { requireScope, type AppEnv } from '../auth/authenticate';
import { visibleDomain } from '../auth/domain-access';
import { database } from '../db/client';
import { domainKey } from '../lib/domain-name';
import { latestCheck } from '../monitor/store-check';
import { domainCertificates } from '../monitor/tls-store';
import { visibleMonitoredDomain } from './domain-status-routes';
import { problem } from './problem';

/**
 * What a domain's mail servers present (the seed's /api/certificates): per MX host and IP the chain,
 * the verification facts and the certificate findings, strict when the domain asks senders to
 * authenticate (MTA-STS enforce or DANE); and one certificate by its SHA-256 with its DER.
 */
export const certificateRoutes = new Hono<AppEnv>()
  .get('/certificates/:domain', requireScope('read'), visibleMonitoredDomain, async (c) => {
    const domain = domainKey(c.req.param('domain'));
    const latest = await latestCheck(c.env.DB, domain);
    const servers = await domainCertificates(c.env.DB, domain, latest?.check ?? null);
    return c.json({ domain, pending: servers.length === 0 || servers.every((s) => s.pending), servers });
  })
  .get('/certificates/sha256/:hash', requireScope('read'), async (c) => {
    const hash = c.req.param('hash').toLowerCase();
    if (!/^[0-9a-f]{64}$/.test(hash)) return problem(c, 400, 'Bad Request', 'The hash must be 64 hex digits (SHA-256 of the DER certificate).');
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
