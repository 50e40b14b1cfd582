import { describe, expect, it } from 'vitest';
import {
  type Existing,
  operatorRecords,
  parseBucketList,
  parseDatabaseList,
  parseDomainsFile,
  parseQueueList,
  parseSecretList,
  PLACEHOLDER_DATABASE_ID,
  planProvision,
  renderOperatorRecords,
  resourcesOf,
  setDatabaseId,
  shellCommand,
  type WranglerConfigLike,
} from '../../scripts/lib/provision-plan';

const config: WranglerConfigLike = {
  name: 'mailcheck-edge-staging',
  vars: { REPORT_ADDRESSES: ' Dmarc-RUA@reports.example.net, tls-rua@reports.example.net ' },
  d1_databases: [{ binding: 'DB', database_name: 'mailcheck-staging', database_id: PLACEHOLDER_DATABASE_ID }],
  r2_buckets: [{ binding: 'RAW_REPORTS', bucket_name: 'mailcheck-staging-raw-reports' }],
  queues: {
    producers: [{ queue: 'mailcheck-staging-ingest' }, { queue: 'mailcheck-staging-monitor' }],
    consumers: [
      { queue: 'mailcheck-staging-ingest', dead_letter_queue: 'mailcheck-staging-ingest-dlq' },
      { queue: 'mailcheck-staging-ingest-dlq' },
      { queue: 'mailcheck-staging-monitor' },
    ],
  },
};
const resources = resourcesOf(config, 'staging');
const empty: Existing = { databases: [], buckets: [], queues: [], secrets: [] };
const UUID = '3f2b8c1e-0a4d-4e5f-9a6b-7c8d9e0f1a2b';

describe('resourcesOf', () => {
  it('collects the names of one environment, the dead-letter queue included, once each', () => {
    expect(resources).toEqual({
      env: 'staging',
      worker: 'mailcheck-edge-staging',
      database: { binding: 'DB', name: 'mailcheck-staging', id: undefined },
      buckets: ['mailcheck-staging-raw-reports'],
      queues: ['mailcheck-staging-ingest', 'mailcheck-staging-monitor', 'mailcheck-staging-ingest-dlq'],
      reportAddresses: ['dmarc-rua@reports.example.net', 'tls-rua@reports.example.net'],
    });
  });

  it('takes a real database id and treats the placeholder as none', () => {
    expect(resourcesOf({ ...config, d1_databases: [{ binding: 'DB', database_name: 'x', database_id: UUID }] }, 'staging').database.id).toBe(UUID);
  });
});

describe('planProvision', () => {
  it('creates everything on an empty account, then migrates and sets both secrets', () => {
    const steps = planProvision(resources, empty);
    expect(steps.map((s) => ('command' in s ? shellCommand(s.command) : `${s.kind} ${s.name}`))).toEqual([
      'npx wrangler d1 create mailcheck-staging',
      'write-database-id mailcheck-staging',
      'npx wrangler r2 bucket create mailcheck-staging-raw-reports',
      'npx wrangler queues create mailcheck-staging-ingest',
      'npx wrangler queues create mailcheck-staging-monitor',
      'npx wrangler queues create mailcheck-staging-ingest-dlq',
      'npx wrangler d1 migrations apply DB --remote --env staging',
      'npx wrangler secret put BOOTSTRAP_ADMIN_TOKEN --env staging',
      'npx wrangler secret put INGEST_TOKEN --env staging',
    ]);
    expect(steps.filter((s) => s.kind === 'put-secret').map((s) => s.kind === 'put-secret' && s.source)).toEqual(['generated', 'generated']);
  });

  it('reuses what exists: a second run only migrates, and writes the listed id when wrangler.toml lacks it', () => {
    const existing: Existing = {
      databases: [{ name: 'mailcheck-staging', uuid: UUID }, { name: 'other', uuid: 'x' }],
      buckets: ['mailcheck-staging-raw-reports'],
      queues: resources.queues,
      secrets: ['BOOTSTRAP_ADMIN_TOKEN', 'INGEST_TOKEN'],
    };
    expect(planProvision(resources, existing)).toEqual([
      { kind: 'write-database-id', name: 'mailcheck-staging', id: UUID },
      { kind: 'migrate', command: ['d1', 'migrations', 'apply', 'DB', '--remote', '--env', 'staging'] },
    ]);
    const written = { ...resources, database: { ...resources.database, id: UUID } };
    expect(planProvision(written, existing).map((s) => s.kind)).toEqual(['migrate']);
  });

  it('creates only the missing queue, and rewrites an id that names another database', () => {
    const existing: Existing = { ...empty, databases: [{ name: 'mailcheck-staging', uuid: UUID }], buckets: resources.buckets, queues: ['mailcheck-staging-ingest', 'mailcheck-staging-monitor'] };
    const stale = { ...resources, database: { ...resources.database, id: '11111111-1111-1111-1111-111111111111' } };
    const kinds = planProvision(stale, existing).map((s) => `${s.kind}${'name' in s ? ` ${s.name}` : ''}`);
    expect(kinds).toEqual(['write-database-id mailcheck-staging', 'create-queue mailcheck-staging-ingest-dlq', 'migrate', 'put-secret BOOTSTRAP_ADMIN_TOKEN', 'put-secret INGEST_TOKEN']);
  });

  it('does not set a bootstrap token again once it was deleted (the Worker still has its ingest token), unless given', () => {
    const existing = { ...empty, secrets: ['INGEST_TOKEN'] };
    const secrets = planProvision(resources, existing).filter((s) => s.kind === 'put-secret' || s.kind === 'skip-secret');
    expect(secrets).toMatchObject([{ kind: 'skip-secret', name: 'BOOTSTRAP_ADMIN_TOKEN', why: expect.stringContaining('BOOTSTRAP_ADMIN_TOKEN=<at least') }]);
    expect(planProvision(resources, existing, ['BOOTSTRAP_ADMIN_TOKEN']).filter((s) => s.kind === 'put-secret')).toMatchObject([{ name: 'BOOTSTRAP_ADMIN_TOKEN', source: 'given' }]);
    // A first run (neither secret yet) sets both.
    expect(planProvision(resources, empty).filter((s) => s.kind === 'put-secret').map((s) => s.kind === 'put-secret' && s.name)).toEqual(['BOOTSTRAP_ADMIN_TOKEN', 'INGEST_TOKEN']);
  });

  it('never rotates an existing secret unless a value is given', () => {
    const existing = { ...empty, secrets: ['BOOTSTRAP_ADMIN_TOKEN', 'INGEST_TOKEN'] };
    expect(planProvision(resources, existing).filter((s) => s.kind === 'put-secret')).toEqual([]);
    const given = planProvision(resources, existing, ['INGEST_TOKEN']).filter((s) => s.kind === 'put-secret');
    expect(given).toEqual([{ kind: 'put-secret', name: 'INGEST_TOKEN', source: 'given', command: ['secret', 'put', 'INGEST_TOKEN', '--env', 'staging'] }]);
  });
});

describe('setDatabaseId', () => {
  const toml = [
    '[[d1_databases]]',
    'binding = "DB"',
    `database_id = "${PLACEHOLDER_DATABASE_ID}"`,
    '',
    '[[env.staging.d1_databases]]',
    'binding = "DB"',
    '# Written by provisioning.',
    `database_id = "${PLACEHOLDER_DATABASE_ID}"`,
    'migrations_dir = "migrations"',
    '',
    '[[env.production.d1_databases]]',
    `database_id = "${PLACEHOLDER_DATABASE_ID}"`,
  ].join('\n');

  it("changes only that environment's database_id line", () => {
    const out = setDatabaseId(toml, 'staging', UUID);
    expect(out.split('\n').filter((line, i) => line !== toml.split('\n')[i])).toEqual([`database_id = "${UUID}"`]);
    expect(out.split('\n')[7]).toBe(`database_id = "${UUID}"`);
  });

  it('refuses a missing block, a block without the line, and what is not an id', () => {
    expect(() => setDatabaseId(toml, 'preview', UUID)).toThrow(/no \[\[env\.preview\.d1_databases\]\]/);
    expect(() => setDatabaseId('[[env.staging.d1_databases]]\nbinding = "DB"\n[vars]\ndatabase_id = "x"', 'staging', UUID)).toThrow(/no database_id line/);
    expect(() => setDatabaseId(toml, 'staging', 'x"; evil = "1')).toThrow(/not a D1 database id/);
  });

  it('writes the real wrangler.toml so that wrangler reads the id back for that environment only', async () => {
    const { readFileSync } = await import('node:fs');
    const out = setDatabaseId(readFileSync('wrangler.toml', 'utf8'), 'production', UUID);
    expect(out.match(new RegExp(UUID, 'g'))).toHaveLength(1);
    expect(out.slice(out.indexOf('[[env.production.d1_databases]]'))).toContain(`database_id = "${UUID}"`);
  });
});

describe("parsing wrangler's listings", () => {
  it('d1 list --json', () => {
    expect(parseDatabaseList(JSON.stringify([{ uuid: UUID, name: 'mailcheck', version: 'production' }, { name: 'broken' }]))).toEqual([{ name: 'mailcheck', uuid: UUID }]);
  });

  it('r2 bucket list (labelled blocks)', () => {
    const text = 'Listing buckets...\nname:           mailcheck-raw-reports\ncreation_date:  2026-01-01T00:00:00.000Z\n\nname:           other\ncreation_date:  2026-01-02T00:00:00.000Z\n';
    expect(parseBucketList(text)).toEqual(['mailcheck-raw-reports', 'other']);
  });

  it('queues list (a table)', () => {
    const text = [
      '┌──────┬──────────────────────┬────────────┐',
      '│ id   │ name                 │ created_on │',
      '├──────┼──────────────────────┼────────────┤',
      '│ a1   │ mailcheck-ingest     │ 2026-01-01 │',
      '├──────┼──────────────────────┼────────────┤',
      '│ b2   │ mailcheck-ingest-dlq │ 2026-01-01 │',
      '└──────┴──────────────────────┴────────────┘',
    ].join('\n');
    expect(parseQueueList(text)).toEqual(['mailcheck-ingest', 'mailcheck-ingest-dlq']);
    expect(parseQueueList('No queues found')).toEqual([]);
  });

  it('secret list --format json', () => {
    expect(parseSecretList('[{"name":"INGEST_TOKEN","type":"secret_text"}]')).toEqual(['INGEST_TOKEN']);
  });

  it('a domains file', () => {
    expect(parseDomainsFile('Example.org.\n\n# ours\nexample.org\n  other.co.uk # a customer\n')).toEqual(['example.org', 'other.co.uk']);
  });
});

describe('operatorRecords', () => {
  it('routes each report address to the Worker and authorises each outside domain in each report domain', () => {
    const records = operatorRecords(resources, ['example.org', 'mail.example.net', 'other.co.uk']);
    expect(records.routes).toEqual([
      { address: 'dmarc-rua@reports.example.net', domain: 'reports.example.net', zone: 'example.net', worker: 'mailcheck-edge-staging' },
      { address: 'tls-rua@reports.example.net', domain: 'reports.example.net', zone: 'example.net', worker: 'mailcheck-edge-staging' },
    ]);
    // mail.example.net shares the report domain's organisational domain: RFC 7489 §7.1 needs no record.
    expect(records.records.map((r) => `${r.name} ${r.type} ${r.value}`)).toEqual([
      'example.org._report._dmarc.reports.example.net TXT v=DMARC1',
      'other.co.uk._report._dmarc.reports.example.net TXT v=DMARC1',
    ]);
    expect(records.notes).toEqual([]);
    const text = renderOperatorRecords(resources, records);
    expect(text).toContain('Custom address "dmarc-rua@reports.example.net" → Action "Send to a Worker" → "mailcheck-edge-staging"');
    expect(text).toContain('  example.org._report._dmarc.reports.example.net. TXT "v=DMARC1"');
    expect(text).toContain('  *._report._dmarc.reports.example.net. TXT "v=DMARC1"');
    expect(text).toContain('rua=mailto:dmarc-rua@reports.example.net');
    // Email Routing on example.net gives the apex its MX only: the subdomain is added once, by name.
    expect(text.split('Settings → Subdomains → Add "reports.example.net" (in zone example.net)')).toHaveLength(2);
    const apex = renderOperatorRecords(resources, operatorRecords({ ...resources, reportAddresses: ['dmarc@example.net'] }, []));
    expect(apex).not.toContain('Subdomains');
  });

  it('says what is missing instead of printing nothing', () => {
    expect(operatorRecords(resources, []).notes.join(' ')).toMatch(/No customer domains given/);
    const none = operatorRecords({ ...resources, reportAddresses: [] }, ['example.org']);
    expect(none).toMatchObject({ routes: [], records: [] });
    expect(none.notes.join(' ')).toMatch(/REPORT_ADDRESSES is empty in \[env\.staging\.vars\]/);
  });
});

describe('shellCommand', () => {
  it('quotes what the shell would split or expand', () => {
    expect(shellCommand(['d1', 'execute', 'DB', '--command', "SELECT 'x'"])).toBe(`npx wrangler d1 execute DB --command 'SELECT '\\''x'\\'''`);
  });
});

