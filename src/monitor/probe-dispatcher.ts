import { DurableObject } from 'cloudflare:workers';

/**
 * The one queue of mail-server IPs for the probe agents (a single instance, named "global"). Jobs are
 * per (ip, port), so a server used by a thousand domains is scanned once; an IP scanned within the
 * rescan interval is skipped unless forced. Agents lease jobs for a limited time: a crashed agent's
 * lease runs out and the alarm puts the job back, up to MAX_ATTEMPTS leases, after which the job rests
 * as `failed` until the next MX check asks for it after the interval.
 *
 * Storage is the object's own SQLite (one row per server), so the queue survives restarts and every
 * operation is one indexed statement; one instance handles thousands of servers a day, far below a
 * Durable Object's throughput.
 */

/** Default time before a scanned server is scanned again; PROBE_RESCAN_SECONDS overrides it. */
export const DEFAULT_RESCAN_SECONDS = 86_400;
/** Default lease; PROBE_LEASE_SECONDS overrides it. A scan takes about a second; a lease covers a batch with retries. */
export const DEFAULT_LEASE_SECONDS = 600;
/** Leases of one job before it is marked failed (a server that crashes the agent must not loop). */
export const MAX_ATTEMPTS = 3;
/** Jobs per lease call. */
export const MAX_LEASE = 50;
/** Host and domain names kept per job: enough for the agent's SMTP greeting check and for people. */
const MAX_NAMES = 50;

export interface ProbeTarget {
  ip: string;
  port?: number;
  host: string;
  domain: string;
}

export interface LeasedJob {
  job_id: number;
  lease_id: string;
  ip: string;
  port: number;
  hosts: string[];
  lease_expires_at: string;
}

export type LeaseCheck = { ok: true; ip: string; port: number } | { ok: false; reason: 'unknown job' | 'stale lease' };

interface JobRow extends Record<string, SqlStorageValue> {
  job_id: number;
  ip: string;
  port: number;
  hosts: string;
  domains: string;
  state: string;
  attempts: number;
  lease_id: string | null;
  lease_expires_at: number | null;
  completed_at: number | null;
}

function seconds(value: string | undefined, fallback: number): number {
  const n = Number(value);
  return Number.isFinite(n) && n > 0 ? n : fallback;
}

function merged(existing: string, added: string[]): string {
  const names = new Set<string>(JSON.parse(existing) as string[]);
  for (const name of added) if (names.size < MAX_NAMES) names.add(name);
  return JSON.stringify([...names]);
}

export class ProbeDispatcher extends DurableObject<Env> {
  private readonly sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    // state: queued → leased → done | (lease expired) queued | (attempts spent) failed.
    this.sql.exec(`CREATE TABLE IF NOT EXISTS jobs (
      job_id INTEGER PRIMARY KEY AUTOINCREMENT,
      ip TEXT NOT NULL,
      port INTEGER NOT NULL,
      hosts TEXT NOT NULL,
      domains TEXT NOT NULL,
      state TEXT NOT NULL,
      forced INTEGER NOT NULL DEFAULT 0,
      attempts INTEGER NOT NULL DEFAULT 0,
      queued_at INTEGER NOT NULL,
      lease_id TEXT,
      agent TEXT,
      lease_expires_at INTEGER,
      completed_at INTEGER,
      UNIQUE (ip, port)
    )`);
    this.sql.exec('CREATE INDEX IF NOT EXISTS jobs_queue ON jobs (state, forced DESC, queued_at)');
    this.sql.exec('CREATE INDEX IF NOT EXISTS jobs_leases ON jobs (state, lease_expires_at)');
  }

  private get rescanMs(): number {
    return seconds(this.env.PROBE_RESCAN_SECONDS, DEFAULT_RESCAN_SECONDS) * 1000;
  }

  private get leaseMs(): number {
    return seconds(this.env.PROBE_LEASE_SECONDS, DEFAULT_LEASE_SECONDS) * 1000;
  }

  /**
   * Adds servers to scan. Each (ip, port) is one job whatever the number of domains and hosts that
   * use it; a server scanned within the rescan interval (or failed within it) is skipped unless
   * `force`; a job already queued or leased only learns the new names.
   */
  async enqueue(targets: ProbeTarget[], options: { force?: boolean } = {}): Promise<{ queued: number; skipped: number }> {
    const now = Date.now();
    let queued = 0;
    let skipped = 0;
    const byServer = new Map<string, { ip: string; port: number; hosts: string[]; domains: string[] }>();
    for (const t of targets) {
      const port = t.port ?? 25;
      const key = `${t.ip} ${port}`;
      const entry = byServer.get(key) ?? { ip: t.ip, port, hosts: [], domains: [] };
      if (!entry.hosts.includes(t.host)) entry.hosts.push(t.host);
      if (!entry.domains.includes(t.domain)) entry.domains.push(t.domain);
      byServer.set(key, entry);
    }
    for (const { ip, port, hosts, domains } of byServer.values()) {
      const row = this.sql.exec<JobRow>('SELECT * FROM jobs WHERE ip = ? AND port = ?', ip, port).toArray()[0];
      if (!row) {
        this.sql.exec(
          'INSERT INTO jobs (ip, port, hosts, domains, state, forced, queued_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
          ip, port, merged('[]', hosts), merged('[]', domains), 'queued', options.force ? 1 : 0, now,
        );
        queued++;
        continue;
      }
      const fresh = row.completed_at !== null && now - row.completed_at < this.rescanMs;
      if (row.state === 'queued' || row.state === 'leased' || (fresh && !options.force)) {
        this.sql.exec('UPDATE jobs SET hosts = ?, domains = ?, forced = max(forced, ?) WHERE job_id = ?', merged(row.hosts, hosts), merged(row.domains, domains), options.force && row.state === 'queued' ? 1 : 0, row.job_id);
        if (row.state === 'queued' || row.state === 'leased') queued++;
        else skipped++;
        continue;
      }
      // Due again: the names start over from this check, so hosts and domains that left do not linger.
      this.sql.exec(
        "UPDATE jobs SET hosts = ?, domains = ?, state = 'queued', forced = ?, attempts = 0, queued_at = ?, lease_id = NULL, agent = NULL, lease_expires_at = NULL WHERE job_id = ?",
        merged('[]', hosts), merged('[]', domains), options.force ? 1 : 0, now, row.job_id,
      );
      queued++;
    }
    return { queued, skipped };
  }

  /** Hands up to `max` queued jobs (forced first, then oldest) to an agent for the lease time. */
  async lease(agent: string, max = 10): Promise<LeasedJob[]> {
    const now = Date.now();
    const expires = now + this.leaseMs;
    const limit = Math.max(1, Math.min(MAX_LEASE, Math.floor(max)));
    const rows = this.sql.exec<JobRow>("SELECT * FROM jobs WHERE state = 'queued' ORDER BY forced DESC, queued_at, job_id LIMIT ?", limit).toArray();
    const jobs: LeasedJob[] = [];
    for (const row of rows) {
      const leaseId = crypto.randomUUID();
      this.sql.exec("UPDATE jobs SET state = 'leased', lease_id = ?, agent = ?, lease_expires_at = ?, attempts = attempts + 1 WHERE job_id = ?", leaseId, agent, expires, row.job_id);
      jobs.push({ job_id: row.job_id, lease_id: leaseId, ip: row.ip, port: row.port, hosts: JSON.parse(row.hosts) as string[], lease_expires_at: new Date(expires).toISOString() });
    }
    if (jobs.length) await this.armAlarm();
    return jobs;
  }

  /** Whether a result may be accepted: the job exists and this is its current lease. */
  async checkLease(jobId: number, leaseId: string): Promise<LeaseCheck> {
    const row = this.sql.exec<JobRow>('SELECT * FROM jobs WHERE job_id = ?', jobId).toArray()[0];
    if (!row) return { ok: false, reason: 'unknown job' };
    if (row.state !== 'leased' || row.lease_id !== leaseId) return { ok: false, reason: 'stale lease' };
    return { ok: true, ip: row.ip, port: row.port };
  }

  /** Marks a leased job done; the server is not queued again before the rescan interval. */
  async complete(jobId: number, leaseId: string): Promise<LeaseCheck> {
    const check = await this.checkLease(jobId, leaseId);
    if (!check.ok) return check;
    this.sql.exec("UPDATE jobs SET state = 'done', completed_at = ?, lease_id = NULL, lease_expires_at = NULL WHERE job_id = ?", Date.now(), jobId);
    return check;
  }

  /** Counts per state and the job rows, for operators and tests. */
  async status(): Promise<{ counts: Record<string, number>; jobs: { job_id: number; ip: string; port: number; state: string; attempts: number; hosts: string[]; domains: string[] }[] }> {
    const counts: Record<string, number> = {};
    for (const row of this.sql.exec<{ state: string; n: number }>('SELECT state, count(*) AS n FROM jobs GROUP BY state')) counts[row.state] = row.n;
    const jobs = this.sql
      .exec<JobRow>('SELECT * FROM jobs ORDER BY job_id LIMIT 1000')
      .toArray()
      .map((r) => ({ job_id: r.job_id, ip: r.ip, port: r.port, state: r.state, attempts: r.attempts, hosts: JSON.parse(r.hosts) as string[], domains: JSON.parse(r.domains) as string[] }));
    return { counts, jobs };
  }

  /** Expired leases go back to the queue (or to failed once their attempts are spent). */
  override async alarm(): Promise<void> {
    const now = Date.now();
    this.sql.exec(
      "UPDATE jobs SET state = CASE WHEN attempts >= ? THEN 'failed' ELSE 'queued' END, completed_at = CASE WHEN attempts >= ? THEN ? ELSE completed_at END, lease_id = NULL, agent = NULL, lease_expires_at = NULL WHERE state = 'leased' AND lease_expires_at <= ?",
      MAX_ATTEMPTS, MAX_ATTEMPTS, now, now,
    );
    await this.armAlarm();
  }

  /** The alarm follows the earliest outstanding lease; none, no alarm. */
  private async armAlarm(): Promise<void> {
    const next = this.sql.exec<{ at: number | null }>("SELECT min(lease_expires_at) AS at FROM jobs WHERE state = 'leased'").one().at;
    if (next === null) await this.ctx.storage.deleteAlarm();
    else await this.ctx.storage.setAlarm(next);
  }
}

export function probeDispatcher(env: Env): DurableObjectStub<ProbeDispatcher> {
  return env.PROBE_DISPATCHER.get(env.PROBE_DISPATCHER.idFromName('global'));
}
