import { cloudflareTest, readD1Migrations } from '@cloudflare/vitest-pool-workers';
import { defineConfig } from 'vitest/config';

// Three projects: the pure core and the CLI run in Node (they read fixture files from disk); everything
// that touches a binding runs inside workerd with real D1, R2, Queues and Durable Objects; the web UI
// is tested in a real browser (Chromium through playwright-core) against a local Worker (docs/ui.md).
const migrations = await readD1Migrations('./migrations');
// Miniflare would fetch the `Request.cf` placeholder from workers.cloudflare.com: tests stay on loopback.
process.env.CLOUDFLARE_CF_FETCH_ENABLED ??= 'false';

export default defineConfig({
  test: {
    reporters: ['default', './test/summary-reporter.ts'],
    projects: [
      {
        test: {
          name: 'node',
          include: ['test/reports/**/*.test.ts', 'test/fuzz/**/*.test.ts', 'test/load/**/*.test.ts', 'test/cli/**/*.test.ts', 'test/node/**/*.test.ts', 'test/dns/**/*.test.ts', 'test/tls/**/*.test.ts', 'test/probe/**/*.test.ts'],
          // The DNS lab (Knot, kresd, dnsdist on loopback) for the DNS tests: test/lab/dns/, docs/dns-lab.md.
          globalSetup: ['test/lab/dns/global-setup.ts', 'test/lab/smtp/global-setup.ts'],
          environment: 'node',
          testTimeout: 60_000,
        },
      },
      {
        plugins: [
          cloudflareTest({
            wrangler: { configPath: './wrangler.toml' },
            miniflare: {
              bindings: {
                TEST_MIGRATIONS: migrations,
                ENVIRONMENT: 'test',
                BOOTSTRAP_ADMIN_TOKEN: 'test-admin-token-0123456789abcdef',
                INGEST_TOKEN: 'test-ingest-token-0123456789abcdef',
                // The DNS lab's DoH front end (test/lab/dns, default port).
                DOH_URL: 'http://127.0.0.1:18053/dns-query',
              },
            },
          }),
        ],
        test: {
          name: 'workers',
          include: ['test/ingest/**/*.test.ts', 'test/faults/**/*.test.ts', 'test/api/**/*.test.ts', 'test/monitor/**/*.test.ts', 'test/senders/**/*.test.ts', 'test/stats/**/*.test.ts', 'test/probe-worker/**/*.test.ts', 'test/digests/**/*.test.ts', 'test/alerts/**/*.test.ts', 'test/retention/**/*.test.ts', 'test/mta-sts/**/*.test.ts'],
          globalSetup: ['test/fixtures/provide-fixtures.ts', 'test/fixtures/access-jwks.ts', 'test/fixtures/webhook-sink.ts', 'test/lab/dns/global-setup.ts'],
          testTimeout: 300_000,
        },
      },
      {
        test: {
          name: 'ui',
          include: ['test/ui/**/*.test.ts'],
          // One Worker (seeded through its API, checks over the DNS lab, one probe pass over the SMTP
          // lab) and one Chromium for every UI test file: test/ui/global-setup.ts.
          globalSetup: ['test/lab/dns/global-setup.ts', 'test/lab/smtp/global-setup.ts', 'test/ui/global-setup.ts'],
          environment: 'node',
          testTimeout: 120_000,
          hookTimeout: 120_000,
          // Files share the Worker's data: one at a time, so counts and lists stay predictable.
          fileParallelism: false,
        },
      },
    ],
  },
});
