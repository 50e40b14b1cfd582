import { inject } from 'vitest';
import { createDohResolver, type DohResolver } from '../../../src/dns/doh-client.ts';
import type { Finding } from '../../../src/dns/checks/finding.ts';

/** The zone of these tests: test/lab/dns/zones/checks.lab.mailcheck.test.zone and its children. */
export const ZONE = 'checks.lab.mailcheck.test';

/** A resolver over the lab's DoH front end; fails (not skips) with start.sh's error when the lab is down. */
export function labResolver(): DohResolver {
  const url = inject('dohUrl');
  if (!url) {
    throw new Error(
      `The DNS lab is not running, and these tests need it.\n${inject('dnsLabError') || ''}\n` +
        'Start it with `bash test/lab/dns/start.sh` (docs/dns-lab.md).',
    );
  }
  return createDohResolver({ url });
}

/** A resolver whose every query ends in ERROR (nothing listens on port 9) or TIMEOUT. */
export function failingResolver(kind: 'ERROR' | 'TIMEOUT'): DohResolver {
  if (kind === 'ERROR') return createDohResolver({ url: 'http://127.0.0.1:9/dns-query' });
  const hang: typeof fetch = (_input, init) =>
    new Promise((_resolve, reject) => init?.signal?.addEventListener('abort', () => reject(init.signal?.reason)));
  return createDohResolver({ url: 'http://127.0.0.1:9/dns-query', fetch: hang, timeoutMs: 50 });
}

export function ids(findings: Finding[]): string[] {
  return findings.map((f) => f.id).sort();
}
