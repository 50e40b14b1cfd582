import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import type { MonitorMessage } from '../../src/monitor/monitor-queue';
import { enqueueMonitoring, scheduleAllDomains } from '../../src/monitor/monitor-queue';
import { notifyChanges } from '../../src/monitor/notify';
import { selectorsSeen } from '../../src/monitor/run-check';
import { deliverEmail, migrate, reportEmail, settle } from '../ingest/helpers';

/** The real queue binding, watched: every sendBatch still goes to the queue. */
function watchedQueue() {
  const batches: MonitorMessage[][] = [];
  const queue = {
    send: (body: MonitorMessage) => env.MONITOR_QUEUE.send(body),
    sendBatch: async (messages: Iterable<MessageSendRequest<MonitorMessage>>) => {
      const list = [...messages];
      batches.push(list.map((m) => m.body));
      return env.MONITOR_QUEUE.sendBatch(list);
    },
  } as unknown as Queue;
  return { environment: { ...env, MONITOR_QUEUE: queue } as Env, batches };
}

beforeAll(migrate);

describe('monitoring 10,000 domains', () => {
  it('sends the schedule messages in batches the Queues limit allows', async () => {
    const { environment, batches } = watchedQueue();
    const names = Array.from({ length: 250 }, (_, i) => `d${i}.fanout.example`);
    await enqueueMonitoring(environment, names, 'schedule');
    expect(batches.map((b) => b.length)).toEqual([100, 100, 50]);
    expect(batches.flat().map((m) => m.domain)).toEqual(names);
  });

  it('re-schedules every domain from the daily cron with bounded reads and sends', async () => {
    const values = Array.from({ length: 2_500 }, (_, i) => `('c${i}.cron.example')`).join(',');
    await env.DB.prepare(`INSERT INTO domains (name) VALUES ${values}`).run();
    const { environment, batches } = watchedQueue();
    expect(await scheduleAllDomains(environment)).toBe(2_500);
    // 2,500 domains: 25 sendBatch calls (subrequests) and 3 pages of 1,000 reads.
    expect(batches).toHaveLength(25);
    expect(batches.every((b) => b.length <= 100 && b.every((m) => m.action === 'schedule'))).toBe(true);
  });
});

describe('DKIM selectors come from the aggregate reports, never guessed', () => {
  it('lists the selectors that passed in recent reports for the domain, not forged ones', async () => {
    const begin = Math.floor(Date.now() / 1000) - 2 * 86_400;
    const xml = `<feedback><report_metadata><org_name>Receiver</org_name><email>r@receiver.example</email><report_id>sel-1</report_id><date_range><begin>${begin}</begin><end>${begin + 86_399}</end></date_range></report_metadata><policy_published><domain>selectors.example</domain><p>none</p></policy_published>
      <record><row><source_ip>192.0.2.1</source_ip><count>3</count><policy_evaluated><disposition>none</disposition><dkim>pass</dkim><spf>pass</spf></policy_evaluated></row><identifiers><header_from>selectors.example</header_from></identifiers><auth_results><dkim><domain>Selectors.example</domain><selector>Mail2025</selector><result>pass</result></dkim><dkim><domain>selectors.example</domain><selector>forged</selector><result>fail</result></dkim><dkim><domain>esp.example</domain><selector>esp1</selector><result>pass</result></dkim></auth_results></record></feedback>`;
    const { inboundId } = await deliverEmail(reportEmail([{ filename: 'r.xml', contentType: 'text/xml', bytes: new TextEncoder().encode(xml) }]));
    expect((await settle(inboundId)).status).toBe('parsed');
    expect(await selectorsSeen(env.DB, 'selectors.example')).toEqual(['mail2025']);
    expect(await selectorsSeen(env.DB, 'nothing-seen.example')).toEqual([]);
  });
});

describe('change notifications by email', () => {
  it('sends through the send_email binding to the owning group', async () => {
    await env.DB.prepare("INSERT INTO groups (name, notify_email) VALUES ('Mail group', 'owner@notify.example')").run();
    await env.DB.prepare("INSERT INTO domains (name) VALUES ('notify.example')").run();
    await env.DB.prepare("INSERT INTO group_domains (group_id, domain_id) SELECT g.id, d.id FROM groups g, domains d WHERE g.name = 'Mail group' AND d.name = 'notify.example'").run();
    const sent: unknown[] = [];
    const binding = {
      send: async (message: unknown) => {
        sent.push(message);
        return env.NOTIFY_EMAIL.send(message as Parameters<SendEmail['send']>[0]);
      },
    } as unknown as SendEmail;
    const outcome = await notifyChanges({ ...env, NOTIFY_EMAIL: binding, NOTIFY_FROM: 'mailcheck@notify.example' }, 'mx.notify.example', [
      { area: 'dmarc', kind: 'finding-appeared', finding_id: 'dmarc.policy-none', detail: { severity: 'warning', title: 'Policy is none', advice: 'Move to quarantine.' } },
    ]);
    expect(outcome).toMatchObject({ emails: 1, errors: [] });
    expect(sent[0]).toMatchObject({ from: 'mailcheck@notify.example', to: 'owner@notify.example', subject: 'MailCheck: mx.notify.example changed' });
    expect((sent[0] as { text: string }).text).toContain('New warning (dmarc.policy-none): Policy is none');
  });
});
