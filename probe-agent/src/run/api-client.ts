/**
 * The agent's side of the probe API (docs/tls.md): lease jobs, post results. Transient failures
 * (network errors, 429, 5xx) are retried with exponential backoff and jitter; answers that retrying
 * cannot change (400, 401, 403, 409) are returned at once so the caller can decide.
 */
import type { ProbeTargetResult } from '../../../src/tls/probe-result.ts';

export interface ProbeJob {
  job_id: number;
  lease_id: string;
  ip: string;
  port: number;
  /** MX host names that use this IP (the first is scanned as the host: SNI, DANE, name checks). */
  hosts: string[];
  lease_expires_at: string;
}

export interface RetryPolicy {
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 6, baseDelayMs: 1000, maxDelayMs: 60_000 };

export type PostOutcome = 'stored' | 'stale-lease' | 'rejected';

/** Authentication or permission failure: retrying with the same token will not help. */
export class AgentUnauthorized extends Error {}

export interface ProbeApi {
  lease(max: number): Promise<ProbeJob[]>;
  postResult(job: ProbeJob, result: ProbeTargetResult): Promise<{ outcome: PostOutcome; detail: string | null }>;
}

export interface ProbeApiOptions {
  /** The Worker's base URL, e.g. https://mailcheck.example.gov.uk */
  api: string;
  token: string;
  agent: string;
  retry?: RetryPolicy;
  requestTimeoutMs?: number;
  /** Called before each retry, for the logs. */
  onRetry?: (what: string, attempt: number, delayMs: number, why: string) => void;
  sleep?: (ms: number) => Promise<void>;
}

const sleepFor = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Full jitter (AWS architecture blog): spreads agents that failed together. */
function backoff(policy: RetryPolicy, attempt: number): number {
  return Math.round(Math.random() * Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1)));
}

function retryable(status: number): boolean {
  return status === 429 || status >= 500;
}

export function createProbeApi(options: ProbeApiOptions): ProbeApi {
  const base = options.api.replace(/\/+$/, '');
  const retry = options.retry ?? DEFAULT_RETRY;
  const sleep = options.sleep ?? sleepFor;
  const timeoutMs = options.requestTimeoutMs ?? 30_000;

  async function send(what: string, path: string, body: unknown): Promise<{ status: number; text: string }> {
    for (let attempt = 1; ; attempt++) {
      let why: string;
      try {
        const response = await fetch(`${base}${path}`, {
          method: 'POST',
          headers: { Authorization: `Bearer ${options.token}`, 'Content-Type': 'application/json', 'User-Agent': 'mailcheck-probe' },
          body: JSON.stringify(body),
          signal: AbortSignal.timeout(timeoutMs),
        });
        const text = await response.text();
        if (response.status === 401 || response.status === 403) {
          throw new AgentUnauthorized(`${what}: ${response.status} ${problemDetail(text)} (the token needs the "probe" scope)`);
        }
        if (!retryable(response.status)) return { status: response.status, text };
        why = `${response.status} ${problemDetail(text)}`;
      } catch (error) {
        if (error instanceof AgentUnauthorized) throw error;
        why = error instanceof Error ? error.message : String(error);
      }
      if (attempt >= retry.attempts) throw new Error(`${what} failed after ${attempt} attempts: ${why}`);
      const delay = backoff(retry, attempt);
      options.onRetry?.(what, attempt, delay, why);
      await sleep(delay);
    }
  }

  return {
    async lease(max) {
      const { status, text } = await send('lease', '/api/probe/lease', { agent: options.agent, max });
      if (status !== 200) throw new Error(`lease: ${status} ${problemDetail(text)}`);
      const body = JSON.parse(text) as { jobs?: ProbeJob[] };
      return body.jobs ?? [];
    },
    async postResult(job, result) {
      const { status, text } = await send(`result for ${job.ip}`, '/api/probe/results', {
        job_id: job.job_id,
        lease_id: job.lease_id,
        agent: options.agent,
        result,
      });
      if (status >= 200 && status < 300) return { outcome: 'stored', detail: null };
      // The lease ran out and the job went back to the queue (or to another agent): drop it.
      if (status === 409) return { outcome: 'stale-lease', detail: problemDetail(text) };
      return { outcome: 'rejected', detail: `${status} ${problemDetail(text)}` };
    },
  };
}

/** The `detail` of an RFC 9457 problem, or the start of whatever else came back. */
function problemDetail(text: string): string {
  try {
    const body = JSON.parse(text) as { detail?: unknown; title?: unknown };
    if (typeof body.detail === 'string') return body.detail;
    if (typeof body.title === 'string') return body.title;
  } catch {
    // not JSON
  }
  return text.slice(0, 200);
}
