import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

/** Sample files are read from the repository's copy (samples/reports), byte for byte. */
export const SAMPLES = join(process.cwd(), 'samples', 'reports');

export function sampleBytes(path: string): Uint8Array {
  return new Uint8Array(readFileSync(join(SAMPLES, path)));
}

export function sampleText(path: string): string {
  return readFileSync(join(SAMPLES, path), 'utf8');
}

/** Every sample file, relative to samples/reports. */
export function allSamples(dir = SAMPLES): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? allSamples(path) : [relative(SAMPLES, path)];
  });
}

export function* fixedChunks(text: string, size: number): Generator<string> {
  for (let i = 0; i < text.length; i += size) yield text.slice(i, i + size);
}

/** Deterministic pseudo-random chunk sizes in [1, max] (mulberry32), so failures reproduce. */
export function* randomChunks(text: string, seed: number, max = 97): Generator<string> {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  for (let i = 0; i < text.length; ) {
    const size = 1 + Math.floor(next() * max);
    yield text.slice(i, i + size);
    i += size;
  }
}

export async function collect<T>(source: AsyncIterable<T> | Iterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of source) out.push(item);
  return out;
}

export async function joinText(source: AsyncIterable<string> | Iterable<string>): Promise<string> {
  return (await collect(source)).join('');
}

export function totalBytes(chunks: Iterable<Uint8Array>): number {
  let total = 0;
  for (const chunk of chunks) total += chunk.length;
  return total;
}

/** Runs `work` and returns how much the resident set grew (a resource bound, never a timing). */
export async function rssGrowth(work: () => Promise<unknown> | unknown): Promise<number> {
  const before = process.memoryUsage().rss;
  let peak = before;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 5);
  try {
    await work();
  } finally {
    clearInterval(timer);
  }
  return Math.max(peak, process.memoryUsage().rss) - before;
}

export const MiB = 1024 * 1024;

/** A minimal valid aggregate report around the given records XML (header values are fixed). */
export function aggregateXml(records: string, head = ''): string {
  return `<?xml version="1.0" encoding="UTF-8"?>
<feedback>${head}
  <report_metadata>
    <org_name>Reporter Inc</org_name>
    <email>dmarc@reporter.example</email>
    <report_id>r-1</report_id>
    <date_range><begin>1700000000</begin><end>1700086399</end></date_range>
  </report_metadata>
  <policy_published><domain>example.org</domain><p>reject</p></policy_published>
${records}
</feedback>`;
}

export function recordXml(ip: string, count: string | number, extra = ''): string {
  return `<record><row><source_ip>${ip}</source_ip><count>${count}</count><policy_evaluated><disposition>none</disposition><dkim>pass</dkim><spf>pass</spf></policy_evaluated></row><identifiers><header_from>example.org</header_from></identifiers><auth_results><spf><domain>example.org</domain><result>pass</result></spf></auth_results>${extra}</record>`;
}
