/**
 * Strict validation of a ProbeTargetResult as agents post it: unknown fields, wrong types and
 * out-of-range values are refused, so what D1 keeps and the grading reads is exactly the contract of
 * probe-result.ts. Sizes are capped so one post stays well inside the 1 MiB body limit and a D1 row.
 */
import { z } from 'zod';
import { PROTOCOLS, type ProbeTargetResult } from './probe-result.ts';

const MAX_CHAIN = 10;
/** base64 of a DER certificate: real ones are 1-3 KB; 16 KB allows large SAN lists. */
const MAX_DER_CHARS = 16_384;
const short = z.string().max(1_000);
const isoDate = z.string().max(40).refine((s) => !Number.isNaN(Date.parse(s)), 'is not an ISO 8601 date');
const hex64 = z.string().regex(/^[0-9a-f]{64}$/, 'is not 64 lower-case hex digits');

const finding = z.strictObject({
  id: z.string().max(100),
  severity: z.enum(['error', 'warning', 'info']),
  title: short,
  advice: z.string().max(4_000),
  reference: short,
  detail: z.string().max(4_000).optional(),
});

const certificate = z.strictObject({
  subject: short,
  issuer: short,
  not_before: isoDate,
  not_after: isoDate,
  sha256: hex64,
  spki_sha256: hex64,
  der: z.string().max(MAX_DER_CHARS).regex(/^[A-Za-z0-9+/]*={0,2}$/, 'is not base64'),
  serial: z.string().max(200),
  san_dns: z.array(z.string().max(253)).max(1_000),
  key_type: z.string().max(40),
  key_bits: z.number().int().min(0).max(65_536),
  signature_algorithm: z.string().max(100),
  self_signed: z.boolean(),
  is_ca: z.boolean(),
  extended_key_usage: z.array(z.string().max(100)).max(50),
});

const protocolKey = z.enum(PROTOCOLS);
const suite = z.strictObject({ id: z.string().regex(/^0x[0-9A-F]{4}$/, 'is not a code point like 0xC02F'), name: z.string().max(100) });

export const probeTargetResultSchema = z.strictObject({
  host: z.string().min(1).max(253),
  ip: z.string().min(2).max(45),
  port: z.number().int().min(1).max(65_535),
  status: z.enum(['ok', 'no_starttls', 'inconclusive', 'refused']),
  status_reason: z.string().max(1_000).nullable(),
  protocols: z.strictObject({ SSLv2: z.boolean(), SSLv3: z.boolean(), 'TLSv1.0': z.boolean(), 'TLSv1.1': z.boolean(), 'TLSv1.2': z.boolean(), 'TLSv1.3': z.boolean() }),
  cipher_suites: z.partialRecord(protocolKey, z.array(suite).max(400)),
  server_preference: z.partialRecord(protocolKey, z.boolean().nullable()),
  groups: z.array(z.string().max(60)).max(100),
  key_exchange: z.strictObject({
    groups: z.array(z.string().max(60)).max(100),
    dh_bits: z.number().int().min(0).max(65_536).nullable(),
    ecdh_bits: z.number().int().min(0).max(65_536).nullable(),
  }),
  signature_algorithms: z.array(z.string().max(100)).max(100),
  secure_renegotiation: z.boolean().nullable(),
  fallback_scsv: z.boolean().nullable(),
  compression: z.boolean().nullable(),
  certificates: z.array(certificate).max(MAX_CHAIN),
  chain: z.strictObject({ trusted: z.boolean(), error: short.nullable(), in_order: z.boolean(), missing_intermediates: z.boolean() }).nullable(),
  dane: z
    .strictObject({
      name: z.string().max(300),
      dns_status: z.string().max(40),
      authenticated: z.boolean(),
      records: z.array(z.strictObject({ usage: z.number().int().min(0).max(255), selector: z.number().int().min(0).max(255), matching_type: z.number().int().min(0).max(255), data: z.string().max(2_048).regex(/^[0-9a-f]*$/) })).max(50),
      matched: z.boolean().nullable(),
      address_authenticated: z.boolean().nullable().optional(),
    })
    .nullable(),
  smtp: z.strictObject({
    greeting: short.nullable(),
    ehlo_extensions: z.array(z.string().max(200)).max(100),
    starttls_offered: z.boolean(),
    starttls_injection: z.boolean().nullable(),
    error: short.nullable(),
  }),
  connections: z.number().int().min(0).max(10_000),
  complete: z.boolean(),
  started_at: isoDate,
  duration_ms: z.number().min(0).max(86_400_000),
  findings: z.array(finding).max(200),
}) satisfies z.ZodType<ProbeTargetResult>;
