import { createRoute } from '@hono/zod-openapi';
import { z } from 'zod';
import { MAX_LEASE, probeDispatcher } from '../monitor/probe-dispatcher';
import { alertsAfterProbe } from '../alerts/hooks';
import { storeProbeResult } from '../monitor/tls-store';
import { canonicalIp } from '../senders/identify';
import { probeTargetResultSchema } from '../tls/probe-result-schema';
import { findingSchema, serverGradeSchema } from './openapi/check-schemas';
import { ApiRouter } from './openapi/api-router';
import { json, jsonRequest, problems } from './openapi/responses';
import { access } from './openapi/security';
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

const probe = { tags: ['probe'], ...access('probe') };

const leaseRoute = createRoute({
  method: 'post',
  path: '/probe/lease',
  summary: 'Lease up to `max` probe jobs (default 10)',
  ...probe,
  request: { body: jsonRequest(leaseBody) },
  responses: {
    200: json(
      z.object({
        jobs: z.array(
          z.object({ job_id: z.int(), lease_id: z.string(), ip: z.string(), port: z.int(), hosts: z.array(z.string()), lease_expires_at: z.string() }),
        ),
      }),
      'The jobs leased (none when there is nothing to scan).',
    ),
    ...problems(400, 401, 403),
  },
});

const resultRoute = createRoute({
  method: 'post',
  path: '/probe/results',
  summary: "Post a leased job's result",
  ...probe,
  request: { body: jsonRequest(resultBody, 'The result follows the probe contract (src/tls/probe-result.ts, docs/tls.md).') },
  responses: {
    200: json(
      z.object({
        job_id: z.int(),
        stored: z.literal(true),
        completed: z.boolean().meta({ description: 'False when the lease ran out meanwhile: the job will be scanned again.' }),
        changed: z.boolean(),
        grade: serverGradeSchema,
        findings: z.array(findingSchema),
      }),
      'Stored.',
    ),
    ...problems(400, 401, 403, 409, 422),
  },
});

export const probeRoutes = new ApiRouter()
  .declare(leaseRoute, async (c) => {
    const { agent, max } = c.req.valid('json');
    const jobs = await probeDispatcher(c.env).lease(agent, max ?? 10);
    return c.json({ jobs });
  })
  .declare(resultRoute, async (c) => {
    const { job_id, lease_id, agent, result } = c.req.valid('json');
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
    // Alerts last (grade fell, certificate expiring): bounded, never throws, and the job is done whatever it sends.
    await alertsAfterProbe(c.env, lease.ip, lease.port);
    return c.json({ job_id, stored: true, completed: completed.ok, changed: stored.changed, grade: stored.grade, findings: stored.findings });
  });
