import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { MAX_DIGESTS_PER_RUN, sendDueDigests } from '../../src/digests/send';
import { migrate } from '../ingest/helpers';

/**
 * One cron run builds at most MAX_DIGESTS_PER_RUN digests (the subrequest budget, docs/digests.md);
 * the half-hourly cron and the days after continue the week Monday began, and every group gets its
 * digest once.
 */

const GROUPS = MAX_DIGESTS_PER_RUN + 3;
const sent: { to: string }[] = [];
const mailEnv = {
  ...env,
  NOTIFY_FROM: 'digest@mailcheck.example',
  NOTIFY_EMAIL: { send: async (m: { to: string }) => void sent.push(m) } as unknown as SendEmail,
} as Env;

beforeAll(async () => {
  await migrate();
  const statements: D1PreparedStatement[] = [];
  for (let i = 1; i <= GROUPS; i++) {
    statements.push(
      env.DB.prepare("INSERT INTO groups (id, name, notify_email, created_at) VALUES (?, ?, ?, '2024-01-01T00:00:00Z')").bind(i, `Group ${i}`, `owner${i}@groups.example`),
      env.DB.prepare('INSERT INTO domains (id, name) VALUES (?, ?)').bind(i, `d${i}.example`),
      env.DB.prepare('INSERT INTO group_domains (group_id, domain_id) VALUES (?, ?)').bind(i, i),
    );
  }
  await env.DB.batch(statements);
});

describe('many groups', () => {
  it('sends at most one run\'s worth on Monday and the rest the next day, each once', async () => {
    const monday = await sendDueDigests(mailEnv, new Date('2024-06-17T03:17:00Z'));
    expect(monday).toEqual({ week: '2024-W24', sent: MAX_DIGESTS_PER_RUN, failed: 0, remaining: GROUPS - MAX_DIGESTS_PER_RUN });
    const tuesday = await sendDueDigests(mailEnv, new Date('2024-06-18T03:17:00Z'));
    expect(tuesday).toEqual({ week: '2024-W24', sent: GROUPS - MAX_DIGESTS_PER_RUN, failed: 0, remaining: 0 });
    expect(await sendDueDigests(mailEnv, new Date('2024-06-19T03:17:00Z'))).toMatchObject({ sent: 0, remaining: 0 });
    expect(new Set(sent.map((m) => m.to)).size).toBe(GROUPS);
    expect(sent).toHaveLength(GROUPS);
  });

  it('lets the half-hourly cron continue a week Monday\'s daily run began, but never start one', async () => {
    sent.length = 0;
    // Monday 00:30, before the daily run: last week (W25) has not been started, so nothing goes out.
    expect(await sendDueDigests(mailEnv, new Date('2024-06-24T00:30:00Z'), { mayStart: false })).toMatchObject({ week: '2024-W25', sent: 0 });
    expect(sent).toHaveLength(0);
    const daily = await sendDueDigests(mailEnv, new Date('2024-06-24T03:17:00Z'));
    expect(daily).toMatchObject({ week: '2024-W25', sent: MAX_DIGESTS_PER_RUN, remaining: GROUPS - MAX_DIGESTS_PER_RUN });
    // Half an hour later, the same day: the rest.
    expect(await sendDueDigests(mailEnv, new Date('2024-06-24T03:30:00Z'), { mayStart: false })).toEqual({ week: '2024-W25', sent: GROUPS - MAX_DIGESTS_PER_RUN, failed: 0, remaining: 0 });
    expect(new Set(sent.map((m) => m.to)).size).toBe(GROUPS);
    expect(sent).toHaveLength(GROUPS);
  });
});
