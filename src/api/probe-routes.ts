import { Hono, type Context } from 'hono';
import { z } from 'zod';
import { requireScope, type AppEnv } from '../auth/authenticate';
import { MAX_LEASE, probeDispatcher } from '../monitor/probe-dispatcher';
import { storeProbeResult } from '../monitor/tls-store';
import { canonicalIp } from '../senders/identify';
import { probeTargetResultSchema } from '../tls/probe-result-schema';
import { problem } from './problem';

/**
 * The probe agents' side of the API (docs/tls.md): lease jobs from the ProbeDispatcher, post a result
 * per job. Only principals with the `probe` scope (a probe token; administrators have every scope).
 */
const agentName = z.string().min(1).max(100).regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces');

const leaseBody = z.strictObject({ agent: agentName, max: z.number().int().min(1).max(MAX_LEASE).optional() });

const resultBody = z.strictObject({
  job_id: z.number().int().positive(),
  lease_id: z.string().min(1).max(100),
  agent: agentName,
  result: probeTargetResultSchema,
});

async function jsonBody<T>(c: Context<AppEnv>, schema: z.ZodType<T>): Promise<{ ok: true; value: T } | { ok: false; response: Response }> {
  let body: unknown;
  try {
    body = await c.req.json();
  } catch {
    return { ok: false, response: problem(c, 400, 'Bad Request', 'The body must be JSON.') };
  }
  const parsed = schema.safeParse(body);
  if (parsed.success) return { ok: true, value: parsed.data };
  const errors = parsed.error.issues.slice(0, 20).map((issue) => ({
    path: issue.path.length ? issue.path.map(String).join('.') : '(body)',
    message: issue.code === 'unrecognized_keys' ? `unknown fields ${issue.keys.join(', ')}` : issue.message,
  }));
  return { ok: false, response: problem(c, 400, 'Bad Request', errors.map((e) => `${e.path}: ${e.message}`).join('; '), { errors }) };
}

export const probeRoutes = new Hono<AppEnv>()
  .post('/probe/lease', requireScope('probe'), async (c) => {
    const body = await jsonBody(c, leaseBody);
    if (!body.ok) return body.response;
    const jobs = await probeDispatcher(c.env).lease(body.value.agent, body.value.max ?? 10);
    return c.json({ jobs });
  })
  .post('/probe/results', requireScope('probe'), async (c) => {
    const body = await jsonBody(c, resultBody);
    if (!body.ok) return body.response;
    const { job_id, lease_id, agent, result } = body.value;
    const dispatcher = probeDispatcher(c.env);
    const lease = await dispatcher.checkLease(job_id, lease_id);
    if (!lease.ok) {
      return problem(c, 409, 'Conflict', `Job ${job_id}: ${lease.reason}; the job was handed to another agent or is done. Lease again.`, { reason: lease.reason });
    }
    // A result for another server than the job's would be filed under the wrong IP.
    if (canonicalIp(result.ip) !== lease.ip || result.port !== lease.port) {
      return problem(c, 422, 'Unprocessable Content', `Job ${job_id} is for ${lease.ip} port ${lease.port}, the result for ${result.ip} port ${result.port}.`);
    }
    const stored = await storeProbeResult(c.env.DB, result, agent);
    // Stored first, completed after: a lease that ran out in between loses nothing, the job is simply scanned again.
    const completed = await dispatcher.complete(job_id, lease_id);
    return c.json({ job_id, stored: true, completed: completed.ok, changed: stored.changed, grade: stored.grade, findings: stored.findings });
  });
