/**
 * The pure half of `npm run provision` (scripts/provision.ts): what one environment of wrangler.toml
 * needs, what to create given what already exists, how to write the D1 id back, and the Email Routing
 * rule and DNS records the operator adds by hand. No I/O here: the script lists, runs and prints.
 */
import { getDomain } from 'tldts';

/** The id wrangler.toml carries until provisioning writes the real one. */
export const PLACEHOLDER_DATABASE_ID = '00000000-0000-0000-0000-000000000000';
/** Secrets the Worker reads (docs/deploy.md); both must be at least this long (src/auth). */
export const SECRETS = ['BOOTSTRAP_ADMIN_TOKEN', 'INGEST_TOKEN'] as const;
export type SecretName = (typeof SECRETS)[number];
export const MIN_SECRET_LENGTH = 32;

/** The fields of wrangler's resolved configuration (unstable_readConfig) that provisioning reads. */
export interface WranglerConfigLike {
  name?: string;
  vars: Record<string, unknown>;
  d1_databases: { binding: string; database_name?: string; database_id?: string }[];
  r2_buckets: { binding: string; bucket_name?: string }[];
  queues: { producers: { queue: string }[]; consumers: { queue: string; dead_letter_queue?: string }[] };
}

export interface EnvResources {
  env: string;
  worker: string;
  database: { binding: string; name: string; id: string | undefined };
  buckets: string[];
  /** Every queue: producers, consumers and dead-letter queues, once each. */
  queues: string[];
  reportAddresses: string[];
}

export function resourcesOf(config: WranglerConfigLike, env: string): EnvResources {
  const db = config.d1_databases[0];
  if (!config.name || !db?.database_name) throw new Error(`wrangler.toml [env.${env}] needs a name and a [[env.${env}.d1_databases]] with database_name`);
  const id = db.database_id && db.database_id !== PLACEHOLDER_DATABASE_ID ? db.database_id : undefined;
  const queues = [
    ...config.queues.producers.map((p) => p.queue),
    ...config.queues.consumers.flatMap((c) => [c.queue, ...(c.dead_letter_queue ? [c.dead_letter_queue] : [])]),
  ];
  return {
    env,
    worker: config.name,
    database: { binding: db.binding, name: db.database_name, id },
    buckets: [...new Set(config.r2_buckets.flatMap((b) => (b.bucket_name ? [b.bucket_name] : [])))],
    queues: [...new Set(queues)],
    reportAddresses: String(config.vars.REPORT_ADDRESSES ?? '')
      .split(',')
      .map((a) => a.trim().toLowerCase())
      .filter(Boolean),
  };
}

/** What the account already has, as listed by wrangler. */
export interface Existing {
  databases: { name: string; uuid: string }[];
  buckets: string[];
  queues: string[];
  /** Names of the secrets the Worker already has (empty when the Worker does not exist yet). */
  secrets: string[];
}

export type Step =
  | { kind: 'create-database'; name: string; command: string[] }
  | { kind: 'write-database-id'; name: string; id: string | undefined }
  | { kind: 'create-bucket'; name: string; command: string[] }
  | { kind: 'create-queue'; name: string; command: string[] }
  | { kind: 'migrate'; command: string[] }
  | { kind: 'put-secret'; name: SecretName; source: 'given' | 'generated'; command: string[] }
  | { kind: 'skip-secret'; name: SecretName; why: string };

/**
 * Idempotent: creates only what is missing, writes the database id only where wrangler.toml lacks it,
 * and sets a secret only when it is missing or when the operator gave a value (so a second run never
 * rotates a token behind the operator's back). A missing BOOTSTRAP_ADMIN_TOKEN on a Worker that has its
 * INGEST_TOKEN was deleted on purpose (docs/auth.md: once Access works), so it is not set again unless
 * given. Migrations always run: wrangler applies only new ones.
 */
export function planProvision(resources: EnvResources, existing: Existing, givenSecrets: readonly SecretName[] = []): Step[] {
  const steps: Step[] = [];
  const { env, database } = resources;
  const listed = existing.databases.find((d) => d.name === database.name);
  if (!listed) steps.push({ kind: 'create-database', name: database.name, command: ['d1', 'create', database.name] });
  if (!database.id || (listed && listed.uuid !== database.id)) steps.push({ kind: 'write-database-id', name: database.name, id: listed?.uuid });
  for (const bucket of resources.buckets) {
    if (!existing.buckets.includes(bucket)) steps.push({ kind: 'create-bucket', name: bucket, command: ['r2', 'bucket', 'create', bucket] });
  }
  for (const queue of resources.queues) {
    if (!existing.queues.includes(queue)) steps.push({ kind: 'create-queue', name: queue, command: ['queues', 'create', queue] });
  }
  steps.push({ kind: 'migrate', command: ['d1', 'migrations', 'apply', database.binding, '--remote', '--env', env] });
  for (const name of SECRETS) {
    const given = givenSecrets.includes(name);
    if (!given && name === 'BOOTSTRAP_ADMIN_TOKEN' && !existing.secrets.includes(name) && existing.secrets.includes('INGEST_TOKEN')) {
      steps.push({
        kind: 'skip-secret',
        name,
        why: `the Worker has INGEST_TOKEN but no BOOTSTRAP_ADMIN_TOKEN, so it was deleted after sign-in through Access was set up (docs/auth.md); not set again. To set one: BOOTSTRAP_ADMIN_TOKEN=<at least ${MIN_SECRET_LENGTH} characters> npm run provision -- --env ${env}`,
      });
      continue;
    }
    if (given || !existing.secrets.includes(name)) {
      steps.push({ kind: 'put-secret', name, source: given ? 'given' : 'generated', command: ['secret', 'put', name, '--env', env] });
    }
  }
  return steps;
}

/**
 * wrangler.toml with `database_id` of `[[env.<env>.d1_databases]]` set to `id`. Edits that one line in
 * place so comments and layout stay; throws when the block or its database_id line is not there.
 */
export function setDatabaseId(toml: string, env: string, id: string): string {
  if (!/^[0-9a-f-]{36}$/i.test(id)) throw new Error(`not a D1 database id: ${id}`);
  const header = `[[env.${env}.d1_databases]]`;
  const start = toml.split('\n').findIndex((line) => line.trim() === header);
  if (start < 0) throw new Error(`wrangler.toml has no ${header}`);
  const lines = toml.split('\n');
  for (let i = start + 1; i < lines.length && !lines[i]!.trim().startsWith('['); i++) {
    if (/^\s*database_id\s*=/.test(lines[i]!)) {
      lines[i] = `database_id = "${id}"`;
      return lines.join('\n');
    }
  }
  throw new Error(`wrangler.toml's ${header} has no database_id line`);
}

/** `wrangler d1 list --json`. */
export function parseDatabaseList(json: string): Existing['databases'] {
  const rows = JSON.parse(json) as { name?: unknown; uuid?: unknown }[];
  return rows.flatMap((row) => (typeof row.name === 'string' && typeof row.uuid === 'string' ? [{ name: row.name, uuid: row.uuid }] : []));
}

/** `wrangler r2 bucket list` (no --json in wrangler 4.86): blocks of `name: <bucket>` lines. */
export function parseBucketList(text: string): string[] {
  return [...text.matchAll(/^name:\s+(\S+)\s*$/gm)].map((m) => m[1]!);
}

/** `wrangler queues list` (no --json in wrangler 4.86): a table whose `name` column holds the queues. */
export function parseQueueList(text: string): string[] {
  const rows = text.split('\n').filter((line) => /[│|]/.test(line));
  const cells = (line: string) => line.split(/[│|]/).map((cell) => cell.trim());
  const header = rows.find((line) => cells(line).includes('name'));
  if (!header) return [];
  const column = cells(header).indexOf('name');
  return rows.filter((line) => line !== header).flatMap((line) => (cells(line)[column] ? [cells(line)[column]!] : []));
}

/** `wrangler secret list --format json`. */
export function parseSecretList(json: string): string[] {
  return (JSON.parse(json) as { name?: unknown }[]).flatMap((s) => (typeof s.name === 'string' ? [s.name] : []));
}

/** Customer domains from a `--domains-file`: one a line, `#` comments and blank lines ignored. */
export function parseDomainsFile(text: string): string[] {
  const domains = text
    .split('\n')
    .map((line) => line.replace(/#.*/, '').trim().toLowerCase().replace(/\.$/, ''))
    .filter(Boolean);
  return [...new Set(domains)];
}

export interface DnsRecord {
  name: string;
  type: 'TXT';
  value: string;
  why: string;
}

export interface OperatorRecords {
  /** One Email Routing rule per report address. */
  /** `domain` is where mail is addressed; `zone` the Cloudflare zone holding it (its organisational domain). */
  routes: { address: string; domain: string; zone: string; worker: string }[];
  records: DnsRecord[];
  notes: string[];
}

const domainOf = (address: string) => address.slice(address.lastIndexOf('@') + 1);
const organisational = (domain: string) => getDomain(domain, { allowPrivateDomains: true }) ?? domain;

/**
 * The Email Routing rules and DNS records for one environment. A customer domain needs an
 * authorisation record in each report domain outside its own organisational domain (RFC 7489 §7.1:
 * `<customer>._report._dmarc.<report domain> TXT "v=DMARC1"`); the `rua=` it publishes names the address.
 */
export function operatorRecords(resources: EnvResources, customerDomains: readonly string[]): OperatorRecords {
  const notes: string[] = [];
  if (resources.reportAddresses.length === 0) {
    notes.push(`REPORT_ADDRESSES is empty in [env.${resources.env}.vars]: set it to the address(es) you route to the Worker (e.g. dmarc-rua@reports.example.net) and run this again for the records; until then the Worker accepts any address routed to it.`);
  }
  const routes = resources.reportAddresses.map((address) => ({ address, domain: domainOf(address), zone: organisational(domainOf(address)), worker: resources.worker }));
  const reportDomains = [...new Set(resources.reportAddresses.map(domainOf))];
  const records: DnsRecord[] = [];
  for (const customer of customerDomains) {
    for (const reportDomain of reportDomains) {
      if (organisational(customer) === organisational(reportDomain)) continue;
      records.push({ name: `${customer}._report._dmarc.${reportDomain}`, type: 'TXT', value: 'v=DMARC1', why: `lets ${customer} send its reports to ${reportDomain} (RFC 7489 §7.1)` });
    }
  }
  if (reportDomains.length && customerDomains.length === 0) {
    notes.push('No customer domains given (--domains-file, or --api with --token): add one authorisation record per domain, or the wildcard below, before their reports are sent.');
  }
  return { routes, records, notes };
}

/** The text printed at the end of a run: what the operator still does in the dashboard and DNS. */
export function renderOperatorRecords(resources: EnvResources, records: OperatorRecords): string {
  const out: string[] = [`What to add by hand for ${resources.env} (Worker "${resources.worker}"):`, ''];
  if (records.routes.length) {
    out.push('Email Routing (dashboard: the zone → Email → Email Routing; enable it first, it adds its own MX and SPF records):');
    // Enabling Email Routing on a zone gives its apex MX records only; a subdomain is added on its own.
    const subdomains = new Map(records.routes.filter((r) => r.domain !== r.zone).map((r) => [r.domain, r.zone]));
    for (const [sub, zone] of subdomains) {
      out.push(`  Settings → Subdomains → Add "${sub}" (in zone ${zone}): Email Routing then adds MX and SPF records for ${sub}, where the reports are addressed`);
    }
    for (const route of records.routes) out.push(`  Routes → Custom address "${route.address}" → Action "Send to a Worker" → "${route.worker}"   (zone ${route.zone})`);
    out.push('');
  }
  if (records.records.length) {
    out.push('DNS records authorising external report destinations (RFC 7489 §7.1):');
    for (const record of records.records) out.push(`  ${record.name}. ${record.type} "${record.value}"`);
    out.push('');
  }
  const reportDomains = [...new Set(resources.reportAddresses.map(domainOf))];
  if (reportDomains.length) {
    out.push('Or authorise every domain at once (any domain may then send you its reports):');
    for (const domain of reportDomains) out.push(`  *._report._dmarc.${domain}. TXT "v=DMARC1"`);
    out.push('', `Each customer domain points its DMARC record at the address: _dmarc.<domain>. TXT "v=DMARC1; p=none; rua=mailto:${resources.reportAddresses[0]}"`, '');
  }
  for (const note of records.notes) out.push(`Note: ${note}`);
  return out.join('\n').trimEnd();
}

/** The shell form of a wrangler command, for --dry-run and the log. Secrets never appear in one. */
export function shellCommand(args: readonly string[]): string {
  return ['npx', 'wrangler', ...args].map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}
