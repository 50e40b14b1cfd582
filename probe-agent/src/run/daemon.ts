/**
 * The lease loop of `mailcheck-probe run`: lease as many jobs as there are free scan slots, scan
 * each IP (one connection at a time per IP, several IPs at once), post the facts back, repeat; wait
 * a poll interval when the queue is empty. Graceful shutdown: on the abort signal no new lease is
 * taken, scans in flight finish and are posted (up to a grace period; anything left is abandoned
 * and its lease runs out on the Worker, which puts the job back in the queue).
 */
import type { ProbeTargetResult } from '../../../src/tls/probe-result.ts';
import { AgentUnauthorized, type ProbeApi, type ProbeJob } from './api-client.ts';
import type { Logger } from './log.ts';

export interface DaemonOptions {
  api: ProbeApi;
  scan: (job: ProbeJob) => Promise<ProbeTargetResult>;
  log: Logger;
  /** IPs scanned at the same time. */
  concurrency: number;
  /** Wait between leases when the queue was empty. */
  pollIntervalMs: number;
  /** Stop once the queue is empty and every leased job is posted (tests, cron). */
  once: boolean;
  /** Aborted on SIGTERM/SIGINT. */
  signal: AbortSignal;
  /** How long in-flight scans may take to finish after the signal. */
  shutdownGraceMs: number;
}

export interface DaemonTotals {
  leased: number;
  stored: number;
  staleLeases: number;
  rejected: number;
  failed: number;
}

export async function runDaemon(options: DaemonOptions): Promise<DaemonTotals> {
  const { api, log } = options;
  const totals: DaemonTotals = { leased: 0, stored: 0, staleLeases: 0, rejected: 0, failed: 0 };
  const inFlight = new Set<Promise<void>>();
  let fatal: unknown = null;

  const work = async (job: ProbeJob) => {
    const started = Date.now();
    try {
      const result = await options.scan(job);
      const { outcome, detail } = await api.postResult(job, result);
      const fields = { job_id: job.job_id, ip: job.ip, port: job.port, host: job.hosts[0] ?? null, status: result.status, connections: result.connections, ms: Date.now() - started };
      if (outcome === 'stored') {
        totals.stored++;
        log.info('result stored', fields);
      } else if (outcome === 'stale-lease') {
        totals.staleLeases++;
        log.warn('lease had expired; result dropped (the job was queued again)', { ...fields, detail });
      } else {
        totals.rejected++;
        log.error('result rejected by the API', { ...fields, detail });
      }
    } catch (error) {
      if (error instanceof AgentUnauthorized) fatal = error;
      totals.failed++;
      log.error('job failed', { job_id: job.job_id, ip: job.ip, error: error instanceof Error ? error.message : String(error) });
    }
  };

  const start = (job: ProbeJob) => {
    const p: Promise<void> = work(job).finally(() => inFlight.delete(p));
    inFlight.add(p);
  };

  log.info('agent started', { concurrency: options.concurrency, once: options.once });
  while (!options.signal.aborted && fatal === null) {
    const free = options.concurrency - inFlight.size;
    if (free > 0) {
      let jobs: ProbeJob[];
      try {
        jobs = await api.lease(free);
      } catch (error) {
        // A daemon outlives an API outage (the client has already retried with backoff); a --once
        // run reports it, so cron or a test sees the failure.
        if (error instanceof AgentUnauthorized || options.once) {
          fatal = error;
          break;
        }
        log.error('lease failed', { error: error instanceof Error ? error.message : String(error) });
        jobs = [];
      }
      totals.leased += jobs.length;
      for (const job of jobs) {
        log.info('job leased', { job_id: job.job_id, ip: job.ip, port: job.port, hosts: job.hosts, lease_expires_at: job.lease_expires_at });
        start(job);
      }
      if (jobs.length > 0) continue;
      if (options.once && inFlight.size === 0) break;
    }
    // Full, or nothing to lease: wait for a slot, or for the poll interval, or for the signal.
    await Promise.race([
      ...inFlight,
      ...(inFlight.size === 0 || free > 0 ? [abortableSleep(options.pollIntervalMs, options.signal)] : []),
    ]);
  }

  // Scans in flight are finished and posted even when stopping for a fatal error.
  if (inFlight.size > 0) {
    log.info('finishing scans in flight', { in_flight: inFlight.size, grace_ms: options.shutdownGraceMs });
    const graceOver = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), options.shutdownGraceMs).unref());
    if ((await Promise.race([Promise.all(inFlight).then(() => 'done' as const), graceOver])) === 'timeout') {
      log.warn('grace period over; abandoning scans in flight (their leases will expire)', { in_flight: inFlight.size });
    }
  }
  if (fatal) throw fatal;
  log.info('agent stopped', { ...totals });
  return totals;
}

function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
