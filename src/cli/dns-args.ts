import { parseArgs } from 'node:util';
import { UsageError } from './usage-error';

export interface CheckCommand {
  command: 'check';
  domains: string[];
  resolver: string | null;
  format: 'json' | 'text';
  selectors: string[];
}

export interface SpfCommand {
  command: 'spf';
  domain: string;
  ip: string;
  sender: string | null;
  helo: string | null;
  resolver: string | null;
  format: 'json' | 'text';
}

export const DNS_USAGE = `Usage: mailcheck-edge check [options] <domain>...
       mailcheck-edge spf <domain> --ip <address> [options]

check: DMARC, SPF, MX, MTA-STS, TLS-RPT, BIMI, DKIM and DNSSEC of each domain,
with a finding and advice for everything worth fixing.
  --resolver <url>     DNS-over-HTTPS resolver (RFC 8484); default Cloudflare's
  --selector <name>    a DKIM selector to check (repeatable; none are guessed)
  -f, --format <fmt>   text (default) or json

spf: evaluates SPF check_host() for a connecting address: why does this
source pass or fail?
  --ip <address>       the client's IPv4 or IPv6 address (required)
  --sender <address>   the MAIL FROM address (default postmaster@<domain>)
  --helo <name>        the HELO/EHLO name
  --resolver <url>     DNS-over-HTTPS resolver; default Cloudflare's
  -f, --format <fmt>   text (default) or json

Exit status: 0 done (findings or a failing result are not errors), 1 a DNS
failure stopped a check, 2 usage error. Documentation: docs/cli.md
`;

function format(value: string | undefined): 'json' | 'text' {
  const f = value ?? 'text';
  if (f !== 'json' && f !== 'text') throw new UsageError(`--format must be json or text, not '${f}'`);
  return f;
}

function resolverUrl(value: string | undefined): string | null {
  if (value === undefined) return null;
  try {
    const url = new URL(value);
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error();
    return url.toString();
  } catch {
    throw new UsageError(`--resolver must be an http(s) URL of a DoH resolver, not '${value}'`);
  }
}

/** `check` and `spf`: argv after the command name. */
export function parseDnsCommandLine(command: 'check' | 'spf', argv: readonly string[]): CheckCommand | SpfCommand | { command: 'help'; usage: string } {
  if (argv.includes('--help') || argv.includes('-h')) return { command: 'help', usage: DNS_USAGE };
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        resolver: { type: 'string' },
        format: { type: 'string', short: 'f' },
        selector: { type: 'string', multiple: true },
        ip: { type: 'string' },
        sender: { type: 'string' },
        helo: { type: 'string' },
      },
    });
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  const { values, positionals } = parsed;
  if (command === 'check') {
    if (positionals.length === 0) throw new UsageError('check: no domain given');
    if (values.ip || values.sender || values.helo) throw new UsageError('check: --ip, --sender and --helo belong to the spf command');
    return { command, domains: positionals, resolver: resolverUrl(values.resolver), format: format(values.format), selectors: values.selector ?? [] };
  }
  if (positionals.length !== 1) throw new UsageError('spf: give exactly one domain');
  if (!values.ip) throw new UsageError('spf: --ip <address> is required');
  return {
    command,
    domain: positionals[0]!,
    ip: values.ip,
    sender: values.sender ?? null,
    helo: values.helo ?? null,
    resolver: resolverUrl(values.resolver),
    format: format(values.format),
  };
}
