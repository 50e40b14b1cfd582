/**
 * `npm run provision -- --env staging|production [--dry-run] [--domains-file FILE | --api URL --token T]`
 *
 * Creates or reuses what one environment of wrangler.toml names (D1 database, R2 bucket, queues with
 * the dead-letter queue), writes the D1 id into wrangler.toml, applies the migrations, sets the two
 * secrets and prints the Email Routing rule and DNS records to add by hand (docs/deploy.md). Every
 * Cloudflare call is `npx wrangler …`, so it uses wrangler's login or CLOUDFLARE_API_TOKEN and
 * CLOUDFLARE_ACCOUNT_ID. The decisions live in scripts/lib/provision-plan.ts (unit-tested).
 *
 * Secrets: BOOTSTRAP_ADMIN_TOKEN and INGEST_TOKEN are taken from the environment when set, else
 * generated; they reach wrangler on stdin only, and a generated one is printed as soon as it is set
 * (and again at the end), so a later failure cannot lose it. A secret the Worker already has is left
 * alone unless a value is given. Everything that can fail without touching the account (arguments,
 * the domains file, the --api listing) is done before the first change.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import {
  type Existing,
  MIN_SECRET_LENGTH,
  operatorRecords,
  parseBucketList,
  parseDatabaseList,
  parseDomainsFile,
  parseQueueList,
  parseSecretList,
  planProvision,
  renderOperatorRecords,
  resourcesOf,
  SECRETS,
  type SecretName,
  setDatabaseId,
  shellCommand,
  type WranglerConfigLike,
} from './lib/provision-plan';

const USAGE = 'usage: npm run provision -- --env staging|production [--dry-run] [--domains-file FILE | --api URL --token TOKEN]';
const CONFIG = 'wrangler.toml';

/** Runs wrangler with its output captured (for lists); throws with its output on failure. */
function capture(args: string[]): string {
  const run = spawnSync('npx', ['wrangler', ...args], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (run.status !== 0) throw new Error(`${shellCommand(args)} failed:\n${run.stdout}${run.stderr}`);
  return run.stdout;
}

/** Runs wrangler with its output shown; `input` goes to its stdin (how secrets reach it). */
function run(args: string[], input?: string): void {
  console.log(`$ ${shellCommand(args)}`);
  const result = spawnSync('npx', ['wrangler', ...args], input === undefined ? { stdio: 'inherit' } : { input, stdio: ['pipe', 'inherit', 'inherit'] });
  if (result.status !== 0) throw new Error(`${shellCommand(args)} failed (exit ${result.status ?? result.signal})`);
}

function listExisting(env: string): Existing {
  const databases = parseDatabaseList(capture(['d1', 'list', '--json']));
  const buckets = parseBucketList(capture(['r2', 'bucket', 'list']));
  // `queues list` shows one page of the account's queues: read pages until one adds no new name.
  const queues: string[] = [];
  for (let page = 1; page <= 100; page++) {
    const names = parseQueueList(capture(['queues', 'list', '--page', String(page)])).filter((name) => !queues.includes(name));
    if (names.length === 0) break;
    queues.push(...names);
  }
  let secrets: string[] = [];
  try {
    secrets = parseSecretList(capture(['secret', 'list', '--env', env, '--format', 'json']));
  } catch (error) {
    // Only "the Worker does not exist yet" (first run) means no secrets (`secret put` creates it); any
    // other failure stops here, or a listing that failed would make this run replace existing tokens.
    if (!/Worker "[^"]+".* not found/.test(String(error))) throw error;
  }
  return { databases, buckets, queues, secrets };
}

async function customerDomains(values: { 'domains-file'?: string; api?: string; token?: string }): Promise<string[]> {
  if (values['domains-file']) return parseDomainsFile(readFileSync(values['domains-file'], 'utf8'));
  if (!values.api) return [];
  if (!values.token) throw new Error('--api needs --token (an admin token)');
  const names: string[] = [];
  for (let cursor: string | null = null; ; ) {
    const url = new URL('/api/admin/domains', values.api);
    url.searchParams.set('limit', '500');
    if (cursor) url.searchParams.set('cursor', cursor);
    const response = await fetch(url, { headers: { Authorization: `Bearer ${values.token}` } });
    if (!response.ok) throw new Error(`GET ${url.pathname}: ${response.status} ${await response.text()}`);
    const page = (await response.json()) as { items: { name: string }[]; next_cursor: string | null };
    names.push(...page.items.map((d) => d.name));
    cursor = page.next_cursor;
    if (!cursor) return names;
  }
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      env: { type: 'string' },
      'dry-run': { type: 'boolean', default: false },
      'domains-file': { type: 'string' },
      api: { type: 'string' },
      token: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const env = values.env;
  if (env !== 'staging' && env !== 'production') {
    console.error(USAGE);
    return 2;
  }
  const dryRun = values['dry-run'];
  const given = new Map<SecretName, string>();
  for (const name of SECRETS) {
    const value = process.env[name];
    if (value === undefined || value === '') continue;
    if (value.length < MIN_SECRET_LENGTH) throw new Error(`${name} from the environment must be at least ${MIN_SECRET_LENGTH} characters`);
    given.set(name, value);
  }
  // Before any change to the account: a missing file or a refused token stops the run with nothing done.
  const customers = await customerDomains(values);
  // Loaded only now: importing wrangler takes seconds, and a wrong argument should not wait for it.
  const { unstable_readConfig } = await import('wrangler');
  const config = unstable_readConfig({ config: CONFIG, env }, { hideWarnings: true }) as WranglerConfigLike;
  const resources = resourcesOf(config, env);

  let existing: Existing = { databases: [], buckets: [], queues: [], secrets: [] };
  if (dryRun) {
    console.log('Dry run: nothing is listed, created or written; the plan assumes an empty account.');
    for (const args of [['d1', 'list', '--json'], ['r2', 'bucket', 'list'], ['queues', 'list', '--page', '1'], ['secret', 'list', '--env', env, '--format', 'json']]) console.log(`would list: ${shellCommand(args)}`);
  } else {
    existing = listExisting(env);
  }

  const generated = new Map<SecretName, string>();
  for (const step of planProvision(resources, existing, [...given.keys()])) {
    switch (step.kind) {
      case 'create-database':
      case 'create-bucket':
      case 'create-queue':
      case 'migrate':
        if (dryRun) console.log(`would run: ${shellCommand(step.command)}`);
        else run(step.command);
        break;
      case 'write-database-id': {
        if (dryRun) {
          console.log(`would write: database_id of [[env.${env}.d1_databases]] in ${CONFIG}, from \`${shellCommand(['d1', 'list', '--json'])}\` (database "${step.name}")`);
          break;
        }
        const id = step.id ?? parseDatabaseList(capture(['d1', 'list', '--json'])).find((d) => d.name === step.name)?.uuid;
        if (!id) throw new Error(`D1 database "${step.name}" is not listed after creating it`);
        writeFileSync(CONFIG, setDatabaseId(readFileSync(CONFIG, 'utf8'), env, id));
        console.log(`wrote database_id = "${id}" into [[env.${env}.d1_databases]] of ${CONFIG}: commit it`);
        break;
      }
      case 'put-secret': {
        if (dryRun) {
          console.log(`would run: ${shellCommand(step.command)}   (value on stdin: ${step.source === 'given' ? `$${step.name}` : 'generated'})`);
          break;
        }
        const value = given.get(step.name) ?? randomBytes(32).toString('base64url');
        run(step.command, value);
        if (!given.has(step.name)) {
          generated.set(step.name, value);
          console.log(`${step.name} is set to a generated value; store it now (a password manager), it cannot be read back:\n  ${step.name}=${value}`);
        }
        break;
      }
      case 'skip-secret':
        console.log(`${dryRun ? 'would skip' : 'skipped'}: ${step.name}: ${step.why}`);
        break;
    }
  }
  if (!dryRun && resources.database.id === undefined) console.log('(the database id is now in wrangler.toml)');

  console.log('');
  console.log(renderOperatorRecords(resources, operatorRecords(resources, customers)));
  if (generated.size) {
    console.log('');
    console.log('Generated secrets (as printed above when they were set): store them now; they are not shown again:');
    for (const [name, value] of generated) console.log(`  ${name}=${value}`);
  }
  console.log('');
  console.log(`Next: commit wrangler.toml, then ${env === 'production' ? 'npm run deploy' : `npx wrangler deploy --env ${env}`}   (docs/deploy.md)`);
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 1;
  },
);
