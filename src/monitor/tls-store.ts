/**
 * D1 side of the mail-server TLS probe: keeping agents' results (graded, certificates once by hash),
 * the MX host/IP map from each domain check, and the per-domain views the API answers with. Grading
 * and certificate findings come from the pure src/tls modules; certificate findings are made when
 * read, since whether trust and name are errors depends on the domain asking (MTA-STS, DANE).
 */
import { sql } from 'drizzle-orm';
import { database } from '../db/client';
import { runBatch } from '../db/d1-batch';
import type { MxFacts } from '../dns/checks/mx';
import type { MtaStsFacts } from '../dns/checks/mta-sts';
import type { DomainCheck, Finding } from '../dns/domain-check';
import { sha256Hex } from '../lib/digest';
import { canonicalIp } from '../senders/identify';
import { evaluateCertificates } from '../tls/certificates/evaluate';
import type { ServerGrade } from '../tls/grading/bands';
import { danePublished, downgradeProtection, rollUpGrades, type DomainTlsGrade, type DowngradeProtection } from '../tls/grading/domain';
import { gradeServer } from '../tls/grading/grade-server';
import type { CertificateFacts, ChainFacts, DaneFacts, ProbeTargetResult } from '../tls/probe-result';
import type { ProbeTarget } from './probe-dispatcher';

const SMTP_PORT = 25;

function iso(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** The facts that make a result different: not when or how fast it was measured. */
async function factsDigest(result: ProbeTargetResult): Promise<string> {
  const { started_at: _s, duration_ms: _d, connections: _c, findings: _f, ...facts } = result;
  return sha256Hex(new TextEncoder().encode(JSON.stringify(facts)));
}

export interface StoredProbeResult {
  grade: ServerGrade;
  changed: boolean;
  findings: Finding[];
}

/**
 * Keeps one server's result in one D1 batch (one transaction). Unchanged facts refresh the latest row
 * in place; changed ones add a row (the history) and replace the server's chain. Each certificate is
 * its own small statement (at most 10 per chain, ~7 parameters each); the chain rows go in through one
 * JSON parameter and json_each, so the 100-parameter limit never comes near.
 */
export async function storeProbeResult(d1: D1Database, result: ProbeTargetResult, agent: string): Promise<StoredProbeResult> {
  const ip = canonicalIp(result.ip) ?? result.ip;
  const { port } = result;
  const { grade, findings } = gradeServer(result);
  const digest = await factsDigest(result);
  const scannedAt = iso(Date.parse(result.started_at) || Date.now());
  // The DER is kept once, in tls_certificates; the result keeps the facts and the hash.
  const stored: ProbeTargetResult = { ...result, ip, certificates: result.certificates.map((c) => ({ ...c, der: '' })) };
  const db = database(d1);
  const latest = await db.get<{ id: number; digest: string } | undefined>(sql`SELECT r.id, r.digest FROM tls_servers s JOIN tls_probe_results r ON r.id = s.latest_result_id WHERE s.ip = ${ip} AND s.port = ${port}`);
  const certificates = result.certificates.map(
    (c) => sql`INSERT INTO tls_certificates (sha256, der, subject, issuer, not_before, not_after, first_seen_at, last_seen_at)
      VALUES (${c.sha256}, ${c.der}, ${c.subject}, ${c.issuer}, ${c.not_before}, ${c.not_after}, ${scannedAt}, ${scannedAt})
      ON CONFLICT (sha256) DO UPDATE SET last_seen_at = max(last_seen_at, excluded.last_seen_at), der = CASE WHEN der = '' THEN excluded.der ELSE der END`,
  );
  if (latest && latest.digest === digest) {
    await runBatch(d1, [
      sql`UPDATE tls_probe_results SET scanned_at = max(scanned_at, ${scannedAt}), host = ${result.host}, agent = ${agent}, result = ${JSON.stringify(stored)} WHERE id = ${latest.id}`,
      sql`UPDATE tls_servers SET scanned_at = max(scanned_at, ${scannedAt}) WHERE ip = ${ip} AND port = ${port}`,
      ...certificates,
    ]);
    return { grade, changed: false, findings };
  }
  const newId = sql`(SELECT max(id) FROM tls_probe_results WHERE ip = ${ip} AND port = ${port})`;
  const chain = JSON.stringify(result.certificates.map((c) => c.sha256));
  // The digest check above ran outside the transaction: two posts of the same result at once (an
  // agent's HTTP retry while the first is in flight) both got here. Checked again inside the batch,
  // the second adds no history row; the statements after it are idempotent.
  const [inserted] = await runBatch(d1, [
    sql`INSERT INTO tls_probe_results (ip, port, host, first_scanned_at, scanned_at, status, grade, digest, result, findings, agent)
        SELECT ${ip}, ${port}, ${result.host}, ${scannedAt}, ${scannedAt}, ${result.status}, ${grade}, ${digest}, ${JSON.stringify(stored)}, ${JSON.stringify(findings)}, ${agent}
        WHERE NOT EXISTS (SELECT 1 FROM tls_servers s JOIN tls_probe_results r ON r.id = s.latest_result_id
          WHERE s.ip = ${ip} AND s.port = ${port} AND r.digest = ${digest})`,
    sql`INSERT INTO tls_servers (ip, port, latest_result_id, scanned_at, grade) VALUES (${ip}, ${port}, ${newId}, ${scannedAt}, ${grade})
        ON CONFLICT (ip, port) DO UPDATE SET latest_result_id = excluded.latest_result_id, scanned_at = excluded.scanned_at, grade = excluded.grade`,
    ...certificates,
    sql`DELETE FROM tls_server_certificates WHERE ip = ${ip} AND port = ${port}`,
    sql`INSERT INTO tls_server_certificates (ip, port, position, sha256) SELECT ${ip}, ${port}, CAST(key AS INTEGER), value FROM json_each(${chain})`,
  ]);
  return { grade, changed: (inserted?.meta.changes ?? 0) > 0, findings };
}

/**
 * After a domain check: replaces the domain's MX host/IP rows with what this check saw (one DELETE,
 * one INSERT from a JSON parameter) and returns the probe targets. Without MX, senders use the
 * domain's own addresses (RFC 5321 §5.1), so those are probed under the domain's name.
 */
export async function recordMxAddresses(d1: D1Database, check: DomainCheck): Promise<ProbeTarget[]> {
  const facts = check.mx.facts as MxFacts | undefined;
  const rows: { host: string; ip: string; preference: number }[] = [];
  for (const host of facts?.hosts ?? []) {
    if (host.ipLiteral) continue;
    for (const address of [...host.addresses.v4, ...host.addresses.v6]) {
      const ip = canonicalIp(address);
      if (ip) rows.push({ host: host.host, ip, preference: host.preference });
    }
  }
  if (facts && facts.hosts.length === 0 && !facts.nullMx && facts.implicit) {
    for (const address of [...facts.implicit.v4, ...facts.implicit.v6]) {
      const ip = canonicalIp(address);
      if (ip) rows.push({ host: check.domain, ip, preference: 0 });
    }
  }
  const seenAt = check.checked_at;
  await runBatch(d1, [
    sql`DELETE FROM mx_addresses WHERE domain = ${check.domain}`,
    sql`INSERT OR IGNORE INTO mx_addresses (domain, host, ip, preference, seen_at)
        SELECT ${check.domain}, json_extract(value, '$.host'), json_extract(value, '$.ip'), json_extract(value, '$.preference'), ${seenAt} FROM json_each(${JSON.stringify(rows)})`,
  ]);
  return rows.map((r) => ({ ip: r.ip, port: SMTP_PORT, host: r.host, domain: check.domain }));
}

interface ServerRow {
  host: string;
  ip: string;
  preference: number;
  scanned_at: string | null;
  grade: string | null;
  result: string | null;
  findings: string | null;
}

async function serverRows(d1: D1Database, domain: string): Promise<ServerRow[]> {
  return database(d1).all<ServerRow>(sql`SELECT m.host, m.ip, m.preference, s.scanned_at, s.grade, r.result, r.findings
    FROM mx_addresses m
    LEFT JOIN tls_servers s ON s.ip = m.ip AND s.port = ${SMTP_PORT}
    LEFT JOIN tls_probe_results r ON r.id = s.latest_result_id
    WHERE m.domain = ${domain}
    ORDER BY m.preference, m.host, m.ip`);
}

/** The domain asks senders to authenticate its MX: MTA-STS enforce, or DANE on this host. */
interface DomainContext {
  mtaStsMode: string | null;
  /** DANE per host from the DNS check (looked at only without MTA-STS); the probe's own TLSA facts take precedence. */
  checkDane: Map<string, boolean>;
}

function domainContext(check: DomainCheck | null): DomainContext {
  const mtaSts = check?.mta_sts.facts as MtaStsFacts | undefined;
  return { mtaStsMode: mtaSts?.mode ?? null, checkDane: new Map((mtaSts?.dane ?? []).map((d) => [d.host, d.tlsa])) };
}

function hostDane(context: DomainContext, host: string, dane: DaneFacts | null | undefined): boolean {
  return dane ? danePublished(dane) : (context.checkDane.get(host) ?? false);
}

export interface MxTlsServer {
  host: string;
  preference: number;
  ip: string;
  port: number;
  pending: boolean;
  scanned_at: string | null;
  status: string | null;
  grade: ServerGrade | null;
  /** Whether the certificate must be trusted and name the host for this domain (MTA-STS enforce or DANE). */
  strict: boolean;
  findings: Finding[];
  certificate_findings: Finding[];
}

export interface MxTlsSection {
  /** Worst server grade; `pending` before any server of the domain was scanned. */
  grade: DomainTlsGrade;
  downgrade_protection: DowngradeProtection;
  pending: boolean;
  servers: MxTlsServer[];
}

function evaluateServer(row: ServerRow, context: DomainContext, now: Date) {
  const result = row.result ? (JSON.parse(row.result) as ProbeTargetResult) : null;
  // The result names the first host of the IP, and its TLSA facts are that host's (_25._tcp.<host>);
  // for another host on the same IP only the DNS check's view of DANE applies.
  const ownDane = result && result.host === row.host ? result.dane : undefined;
  const dane = hostDane(context, row.host, ownDane);
  const strict = context.mtaStsMode === 'enforce' || dane;
  const certificateFindings = result ? evaluateCertificates({ ...result, host: row.host, dane: ownDane ?? null }, { host: row.host, now, strict }) : [];
  return { result, dane, strict, certificateFindings };
}

/** The MX TLS section of GET /api/domainstatus/:domain. */
export async function mxTlsSection(d1: D1Database, domain: string, check: DomainCheck | null, now = new Date()): Promise<MxTlsSection> {
  const rows = await serverRows(d1, domain);
  const context = domainContext(check);
  const daneByHost = new Map<string, boolean>();
  const servers = rows.map((row): MxTlsServer => {
    const { result, dane, strict, certificateFindings } = evaluateServer(row, context, now);
    daneByHost.set(row.host, (daneByHost.get(row.host) ?? true) && dane);
    return {
      host: row.host,
      preference: row.preference,
      ip: row.ip,
      port: SMTP_PORT,
      pending: result === null,
      scanned_at: row.scanned_at,
      status: result?.status ?? null,
      grade: (row.grade as ServerGrade | null) ?? null,
      strict,
      findings: row.findings ? (JSON.parse(row.findings) as Finding[]) : [],
      certificate_findings: certificateFindings,
    };
  });
  const grade = rollUpGrades(servers.map((s) => s.grade));
  return { grade, downgrade_protection: downgradeProtection({ mtaStsMode: context.mtaStsMode, daneByHost }), pending: grade === 'pending', servers };
}

export interface CertificateView {
  host: string;
  preference: number;
  ip: string;
  port: number;
  pending: boolean;
  scanned_at: string | null;
  strict: boolean;
  /** The chain as sent, leaf first, without the DER (GET /api/certificates/sha256/:hash has it). */
  certificates: Omit<CertificateFacts, 'der'>[];
  chain: ChainFacts | null;
  dane: DaneFacts | null;
  findings: Finding[];
}

/** GET /api/certificates/:domain: per MX host and IP, the chain and its findings in this domain's context. */
export async function domainCertificates(d1: D1Database, domain: string, check: DomainCheck | null, now = new Date()): Promise<CertificateView[]> {
  const context = domainContext(check);
  return (await serverRows(d1, domain)).map((row) => {
    const { result, strict, certificateFindings } = evaluateServer(row, context, now);
    return {
      host: row.host,
      preference: row.preference,
      ip: row.ip,
      port: SMTP_PORT,
      pending: result === null,
      scanned_at: row.scanned_at,
      strict,
      certificates: (result?.certificates ?? []).map(({ der: _der, ...facts }) => facts),
      chain: result?.chain ?? null,
      dane: result?.dane ?? null,
      findings: certificateFindings,
    };
  });
}
