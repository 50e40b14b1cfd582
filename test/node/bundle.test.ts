import { describe, expect, it } from 'vitest';
import { bundleWorker, formatBytes, LIMITS, overLimits } from '../../scripts/check-bundle';

/**
 * The CI check that the Worker bundles for each deployed environment, as `wrangler deploy` would
 * (`--dry-run`: no Cloudflare account), and stays within the Worker size limit (scripts/check-bundle.ts).
 */
describe('the deployable Worker bundle', () => {
  it.each(['production', 'staging'])('bundles for --env %s within the size limits', (env) => {
    const size = bundleWorker(env);
    // Printed on purpose: CI's log shows the size of every build.
    console.log(`Worker bundle --env ${env}: ${formatBytes(size.uncompressedBytes)}, gzip ${formatBytes(size.gzipBytes)} in ${size.files.length} file(s)`);
    expect(size.files.length).toBeGreaterThan(0);
    expect(overLimits(size)).toEqual([]);
  }, 180_000);

  it('fails a bundle over either limit', () => {
    expect(overLimits({ uncompressedBytes: LIMITS.uncompressedBytes, gzipBytes: LIMITS.gzipBytes })).toEqual([]);
    expect(overLimits({ uncompressedBytes: LIMITS.uncompressedBytes + 1, gzipBytes: 1 })).toHaveLength(1);
    expect(overLimits({ uncompressedBytes: 1, gzipBytes: LIMITS.gzipBytes + 1 })[0]).toMatch(/gzipped 10\.00 MiB is over/);
  });
});
