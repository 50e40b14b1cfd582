/** Response schemas of the domain checks and the TLS probe's view of a domain (domainstatus, certificates). */
import { z } from 'zod';
import { AREAS } from '../../dns/domain-check';
import { BANDS } from '../../tls/grading/bands';

export const findingSchema = z
  .looseObject({
    id: z.string().meta({ description: 'Stable, e.g. `mx.null-mx` (docs/rules.md).' }),
    severity: z.enum(['error', 'warning', 'info']),
    title: z.string(),
    advice: z.string(),
    reference: z.string(),
    detail: z.string().optional(),
  })
  .meta({ id: 'Finding' });

const areaSchema = z.looseObject({ record: z.string().nullable().optional(), findings: z.array(findingSchema) }).meta({
  description: "One area's facts (they differ per area) and findings.",
});

export const domainCheckSchema = z
  .looseObject({
    domain: z.string(),
    checked_at: z.string(),
    complete: z.boolean().meta({ description: 'False when a DNS failure left some area unchecked.' }),
    ...Object.fromEntries(AREAS.map((area) => [area, areaSchema])),
    findings: z.array(findingSchema.extend({ area: z.enum(AREAS) })).meta({ description: 'Every finding of every area, worst first.' }),
  })
  .meta({ id: 'DomainCheck' });

export const serverGradeSchema = z.enum([...BANDS, 'inconclusive', 'no_tls']);

export const mxTlsSchema = z
  .object({
    grade: z.enum([...BANDS, 'inconclusive', 'no_tls', 'pending']).meta({ description: 'The worst server grade; pending before any server was scanned.' }),
    downgrade_protection: z.enum(['none', 'mta_sts', 'dane']),
    pending: z.boolean(),
    servers: z.array(
      z.object({
        host: z.string(),
        preference: z.int(),
        ip: z.string(),
        port: z.int(),
        pending: z.boolean(),
        scanned_at: z.string().nullable(),
        status: z.string().nullable(),
        grade: serverGradeSchema.nullable(),
        strict: z.boolean().meta({ description: 'The certificate must be trusted and name the host (MTA-STS enforce or DANE).' }),
        findings: z.array(findingSchema),
        certificate_findings: z.array(findingSchema),
      }),
    ),
  })
  .meta({ id: 'MxTls' });
