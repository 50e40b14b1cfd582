import { Gzip, gzipSync, zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { ReportRejection } from '../../src/reports/model';
import { DEFAULT_UNPACK_LIMITS, gunzipChunks, sniffContainer, unzipEntries, type UnpackLimits } from '../../src/reports/unpack';
import { collect, MiB, rssGrowth, sampleBytes, totalBytes } from './helpers';

function rejectionOf(work: () => unknown): ReportRejection {
  try {
    work();
  } catch (error) {
    if (error instanceof ReportRejection) return error;
    throw error;
  }
  throw new Error('nothing was rejected');
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** One gzip member of `mib` MiB of zeros, compressed by streaming a 1 MiB zero buffer repeatedly. */
function zeroMember(mib: number): Uint8Array {
  const out: Uint8Array[] = [];
  const gzip = new Gzip({ level: 9 }, (data) => out.push(data));
  const zeros = new Uint8Array(MiB);
  for (let i = 0; i < mib; i++) gzip.push(zeros, i === mib - 1);
  return concat(...out);
}

const xml = sampleBytes('extract_report/nice-input.xml');
const gz = sampleBytes('extract_report/nice-input.xml.gz');
const zip = sampleBytes('extract_report/nice-input.xml.zip');

describe('sniffContainer', () => {
  it('goes by magic bytes only', () => {
    expect(sniffContainer(gz)).toBe('gzip');
    expect(sniffContainer(zip)).toBe('zip');
    expect(sniffContainer(xml)).toBe('plain');
    expect(sniffContainer(sampleBytes('empty.xml'))).toBe('plain');
    expect(sniffContainer(sampleBytes('aggregate/twilight.eml'))).toBe('plain');
    expect(sniffContainer(new Uint8Array([0x50, 0x4b, 0x05, 0x06]))).toBe('zip');
    expect(sniffContainer(new TextEncoder().encode('PK is not enough'))).toBe('plain');
  });
});

describe('gunzipChunks', () => {
  it('restores nice-input.xml.gz byte for byte, in chunks of at most 64 KiB', async () => {
    const chunks = await collect(gunzipChunks(gz));
    expect(chunks.every((c) => c.length <= 64 * 1024)).toBe(true);
    expect(concat(...chunks)).toEqual(xml);
  });

  it('re-streams from the start on every iteration, sync or async', async () => {
    const stream = gunzipChunks(gz);
    expect(totalBytes(stream)).toBe(xml.length);
    expect(totalBytes(await collect(stream))).toBe(xml.length);
  });

  it('reads concatenated gzip members as one stream', () => {
    expect(totalBytes(gunzipChunks(concat(gz, gz)))).toBe(2 * xml.length);
  });

  it('accepts trailing garbage after a complete member, with a warning', () => {
    const warnings: string[] = [];
    const padded = concat(gz, new Uint8Array(512), new TextEncoder().encode('\r\n'));
    expect(totalBytes(gunzipChunks(padded, DEFAULT_UNPACK_LIMITS, (w) => warnings.push(w)))).toBe(xml.length);
    expect(warnings).toEqual(['ignored bytes after the end of the gzip data (after its member)']);
  });

  it('rejects truncated gzip as corrupt-archive', () => {
    for (const cut of [5, 20, 100, gz.length - 20]) {
      const error = rejectionOf(() => totalBytes(gunzipChunks(gz.subarray(0, cut))));
      expect(error.code).toBe('corrupt-archive');
    }
    expect(rejectionOf(() => totalBytes(gunzipChunks(gz.subarray(0, 300)))).message).toBe(
      'gzip data is truncated: it ends before the compressed stream does',
    );
  });

  it('rejects damaged gzip as corrupt-archive', () => {
    const damaged = gz.slice();
    for (let i = 100; i < 140; i++) damaged[i] = 0xff;
    expect(rejectionOf(() => totalBytes(gunzipChunks(damaged))).code).toBe('corrupt-archive');
    const badMethod = gz.slice();
    badMethod[2] = 7;
    expect(rejectionOf(() => totalBytes(gunzipChunks(badMethod))).message).toMatch(/compression method 7/);
  });
});

describe('unzipEntries', () => {
  it('lists nice-input.xml.zip and restores its one entry', async () => {
    const entries = unzipEntries(zip);
    expect(entries.map((e) => e.name)).toEqual(['nice-input.xml']);
    expect(entries[0]?.declaredSize).toBe(15159);
    expect(concat(...(await collect(entries[0]!.chunks())))).toEqual(xml);
  });

  it('skips directories and streams each entry on its own', () => {
    const archive = zipSync({ 'reports/': new Uint8Array(0), 'reports/a.xml': xml, 'b.txt': new Uint8Array([1, 2, 3]), 'empty': new Uint8Array(0) });
    const entries = unzipEntries(archive);
    expect(entries.map((e) => e.name)).toEqual(['reports/a.xml', 'b.txt', 'empty']);
    expect(entries.map((e) => totalBytes(e.chunks()))).toEqual([xml.length, 3, 0]);
  });

  it('rejects more entries than maxZipEntries', () => {
    const files = Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`f${i}.xml`, new Uint8Array([60])]));
    const error = rejectionOf(() => unzipEntries(zipSync(files)));
    expect(error.code).toBe('decompression-bomb');
    expect(error.message).toMatch(/17 files/);
  });

  it('rejects a corrupt or truncated archive', () => {
    expect(rejectionOf(() => unzipEntries(zip.subarray(0, 500))).code).toBe('corrupt-archive');
    const damaged = zip.slice();
    for (let i = 200; i < 260; i++) damaged[i] = 0x00;
    expect(rejectionOf(() => totalBytes(unzipEntries(damaged)[0]!.chunks())).code).toBe('corrupt-archive');
  });
});

describe('decompression bombs', () => {
  it('stops a 2 GiB gzip of zeros early, in bounded memory', () => {
    // 128 members of 16 MiB of zeros each: a valid gzip file of ~2 MB that expands to 2 GiB.
    const member = zeroMember(16);
    const bomb = concat(...Array.from({ length: 128 }, () => member));
    expect(bomb.length).toBeLessThan(3 * MiB);
    let error: ReportRejection | undefined;
    return rssGrowth(() => {
      error = rejectionOf(() => totalBytes(gunzipChunks(bomb)));
    }).then((growth) => {
      expect(error?.code).toBe('decompression-bomb');
      expect(error?.message).toMatch(/expands more than 300 times/);
      expect(growth).toBeLessThan(300 * MiB);
    });
  });

  it('stops a single-member gzip bomb at the ratio limit', () => {
    const error = rejectionOf(() => totalBytes(gunzipChunks(zeroMember(64))));
    expect(error.code).toBe('decompression-bomb');
  });

  it('enforces maxOutputBytes independently of the ratio', () => {
    const limits: UnpackLimits = { ...DEFAULT_UNPACK_LIMITS, maxOutputBytes: 4 * MiB, maxRatio: 1e9 };
    const error = rejectionOf(() => totalBytes(gunzipChunks(zeroMember(8), limits)));
    expect(error.code).toBe('decompression-bomb');
    expect(error.message).toMatch(/more than 4194304 bytes/);
  });

  it('does not ratio-check small outputs (a short XML compresses very well)', () => {
    const small = gzipSync(new Uint8Array(MiB));
    expect(totalBytes(gunzipChunks(small))).toBe(MiB);
  });

  it('rejects a zip bomb by its declared size before decompressing', () => {
    const bomb = zipSync({ 'zeros.xml': new Uint8Array(64 * MiB) }, { level: 9 });
    const error = rejectionOf(() => unzipEntries(bomb));
    expect(error.code).toBe('decompression-bomb');
    expect(error.message).toMatch(/zeros\.xml/);
  });

  it('rejects a zip bomb that lies about its size while streaming it', async () => {
    const bomb = zipSync({ 'zeros.xml': new Uint8Array(64 * MiB) }, { level: 9 });
    // Local header field "uncompressed size" (offset 22) rewritten to claim 1,000 bytes.
    new DataView(bomb.buffer, bomb.byteOffset).setUint32(22, 1000, true);
    const [entry] = unzipEntries(bomb);
    expect(entry?.declaredSize).toBe(1000);
    const growth = await rssGrowth(() => {
      expect(rejectionOf(() => totalBytes(entry!.chunks())).code).toBe('decompression-bomb');
    });
    expect(growth).toBeLessThan(300 * MiB);
  });
});
