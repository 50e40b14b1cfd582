/**
 * `npm run replay -- <id...> | --failed | --rejected [--url URL] [--token TOKEN]`
 * Re-processes inbound messages from their raw copy in R2 through POST /api/admin/replay. Defaults to
 * the local `npm start` instance and the admin token in `.dev.vars`; MAILCHECK_URL and
 * MAILCHECK_TOKEN (or the flags) point it at a deployed Worker.
 */
import { existsSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

const USAGE = 'usage: npm run replay -- <inbound id...> | --failed | --rejected [--url URL] [--token TOKEN]';

function devToken(): string | undefined {
  if (!existsSync('.dev.vars')) return undefined;
  return /^BOOTSTRAP_ADMIN_TOKEN=(.*)$/m.exec(readFileSync('.dev.vars', 'utf8'))?.[1]?.trim();
}

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      failed: { type: 'boolean', default: false },
      rejected: { type: 'boolean', default: false },
      url: { type: 'string', default: process.env.MAILCHECK_URL ?? 'http://127.0.0.1:8787' },
      token: { type: 'string', default: process.env.MAILCHECK_TOKEN ?? devToken() },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const ids = positionals.map(Number);
  const modes = [values.failed, values.rejected, ids.length > 0].filter(Boolean).length;
  if (modes !== 1 || ids.some((id) => !Number.isInteger(id) || id < 1)) {
    console.error(USAGE);
    return 2;
  }
  if (!values.token) {
    console.error('no admin token: pass --token, set MAILCHECK_TOKEN, or run `npm start` once to create .dev.vars');
    return 2;
  }
  let total = 0;
  // The route replays at most 1,000 a call; replayed rows leave the selected status, so loop until none are left.
  for (;;) {
    const body = ids.length ? { ids } : { status: values.failed ? 'failed' : 'rejected' };
    const response = await fetch(new URL('/api/admin/replay', values.url), {
      method: 'POST',
      headers: { Authorization: `Bearer ${values.token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
    const result = (await response.json()) as { replayed?: number[]; missing?: number[]; detail?: string; purged?: { id: number; purged_at: string }[] };
    for (const gone of result.purged ?? []) console.error(`inbound ${gone.id}: its raw message was purged by retention on ${gone.purged_at}; it cannot be replayed`);
    if (!response.ok) {
      console.error(`replay failed: ${response.status} ${result.detail ?? ''}`);
      return 1;
    }
    total += result.replayed?.length ?? 0;
    if (result.missing?.length) console.error(`not found: ${result.missing.join(', ')}`);
    console.error(`replayed ${total} inbound message(s) so far`);
    if (ids.length || (result.replayed?.length ?? 0) < 1000) break;
  }
  console.log(`queued ${total} inbound message(s) for processing; follow them at ${values.url}/api/inbound`);
  return 0;
}

main().then((code) => process.exit(code), (error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
