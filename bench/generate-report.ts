/**
 * Synthetic DMARC aggregate reports for `npm run bench`, shaped like what large receivers send
 * (Google-style indentation, RFC 7489 elements): varied IPv4/IPv6 sources, skewed message counts,
 * several header-from domains, DKIM/SPF verdicts, one or two DKIM results on a record, SPF scope,
 * the odd policy override. Deterministic (seeded PRNG), so every run measures the same bytes.
 *
 * The XML is only ever produced as a stream of small strings and compressed as a stream: the
 * generator never holds a report whole, so the memory benchmark's baseline is not its own doing.
 */
import { once } from 'node:events';
import { createGzip } from 'node:zlib';

export interface ReportShape {
  /** Stop after this many records… */
  records?: number;
  /** …or once the XML reaches this many bytes (whichever comes first; at least one is needed). */
  xmlBytes?: number;
  /** PRNG seed: the same seed gives the same report. */
  seed?: number;
  /** `report_id`; vary it to make a report that is not a duplicate of an earlier one. */
  reportId?: string;
}

export interface GeneratedReport {
  gz: Uint8Array;
  records: number;
  messages: number;
  xmlBytes: number;
}

/** mulberry32: tiny, fast, good enough for test data (the same seed gives the same data). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const POLICY_DOMAIN = 'bench.example.org';
const HEADER_FROM = [POLICY_DOMAIN, POLICY_DOMAIN, POLICY_DOMAIN, 'mail.bench.example.org', 'news.bench.example.org', 'billing.bench.example.org'];
const DKIM_DOMAINS = [POLICY_DOMAIN, 'mail.bench.example.org', 'sendgrid.net', 'amazonses.com', 'mcsv.net', 'outlook.com', 'gappssmtp.com'];
const SELECTORS = ['google', 'selector1', 'selector2', 's1', 's2', 'k1', 'mta', '20230601', 'smtpapi', 'dkim'];
const SPF_DOMAINS = [POLICY_DOMAIN, 'bounces.bench.example.org', 'em123.bench.example.org', 'amazonses.com', 'outbound.protection.outlook.com', 'mailgun.org'];
const ENVELOPE_TO = ['gmail.com', 'googlemail.com', 'example.com', 'example.net'];
const OVERRIDES: [string, string][] = [
  ['forwarded', 'looks forwarded, downgrade to none'],
  ['local_policy', 'arc=pass'],
  ['mailing_list', ''],
  ['sampled_out', ''],
];

function pick<T>(rand: () => number, items: readonly T[]): T {
  return items[Math.floor(rand() * items.length)] as T;
}

function sourceIp(rand: () => number): string {
  if (rand() < 0.15) {
    const h = () => Math.floor(rand() * 0x10000).toString(16);
    return `2a00:1450:${h()}:${h()}::${h()}`;
  }
  const octet = () => Math.floor(rand() * 256);
  return `${pick(rand, [209, 40, 52, 54, 74, 104, 149, 167, 185, 198])}.${octet()}.${octet()}.${octet()}`;
}

/** Most rows carry one message; a few carry thousands (a bulk sender's IP). */
function messageCount(rand: () => number): number {
  const r = rand();
  if (r < 0.6) return 1;
  if (r < 0.9) return 2 + Math.floor(rand() * 20);
  if (r < 0.99) return 20 + Math.floor(rand() * 500);
  return 500 + Math.floor(rand() * 20000);
}

function header(reportId: string, begin: number): string {
  return `<?xml version="1.0" encoding="UTF-8" ?>
<feedback>
  <version>1.0</version>
  <report_metadata>
    <org_name>receiver.example</org_name>
    <email>noreply-dmarc-support@receiver.example</email>
    <extra_contact_info>https://support.receiver.example/dmarc</extra_contact_info>
    <report_id>${reportId}</report_id>
    <date_range>
      <begin>${begin}</begin>
      <end>${begin + 86399}</end>
    </date_range>
  </report_metadata>
  <policy_published>
    <domain>${POLICY_DOMAIN}</domain>
    <adkim>r</adkim>
    <aspf>r</aspf>
    <p>quarantine</p>
    <sp>reject</sp>
    <pct>100</pct>
    <np>reject</np>
  </policy_published>
`;
}

const FOOTER = '</feedback>\n';

function record(rand: () => number): { xml: string; count: number } {
  const count = messageCount(rand);
  const headerFrom = pick(rand, HEADER_FROM);
  const dkimCount = rand() < 0.15 ? 0 : rand() < 0.3 ? 2 : 1;
  const dkimResults: string[] = [];
  let dkimAligned = false;
  for (let i = 0; i < dkimCount; i++) {
    const domain = i === 0 && rand() < 0.6 ? headerFrom : pick(rand, DKIM_DOMAINS);
    const result = rand() < 0.8 ? 'pass' : pick(rand, ['fail', 'neutral', 'temperror', 'permerror']);
    if (result === 'pass' && domain.endsWith(POLICY_DOMAIN)) dkimAligned = true;
    const human = result !== 'pass' && rand() < 0.5 ? `\n        <human_result>${pick(rand, ['signature did not verify', 'key not found', 'body hash mismatch'])}</human_result>` : '';
    dkimResults.push(`      <dkim>
        <domain>${domain}</domain>
        <selector>${pick(rand, SELECTORS)}</selector>
        <result>${result}</result>${human}
      </dkim>
`);
  }
  const spfDomain = rand() < 0.5 ? headerFrom : pick(rand, SPF_DOMAINS);
  const spfResult = rand() < 0.75 ? 'pass' : pick(rand, ['fail', 'softfail', 'neutral', 'none', 'temperror']);
  const spfAligned = spfResult === 'pass' && spfDomain.endsWith(POLICY_DOMAIN);
  const dmarcPass = dkimAligned || spfAligned;
  const disposition = dmarcPass ? 'none' : rand() < 0.3 ? 'none' : rand() < 0.7 ? 'quarantine' : 'reject';
  const reason =
    !dmarcPass && disposition === 'none'
      ? (() => {
          const [type, comment] = pick(rand, OVERRIDES);
          return `
        <reason>
          <type>${type}</type>${comment ? `\n          <comment>${comment}</comment>` : ''}
        </reason>`;
        })()
      : '';
  const envelopeTo = rand() < 0.4 ? `\n      <envelope_to>${pick(rand, ENVELOPE_TO)}</envelope_to>` : '';
  const envelopeFrom = rand() < 0.7 ? `\n      <envelope_from>${spfDomain}</envelope_from>` : '';
  const xml = `  <record>
    <row>
      <source_ip>${sourceIp(rand)}</source_ip>
      <count>${count}</count>
      <policy_evaluated>
        <disposition>${disposition}</disposition>
        <dkim>${dkimAligned ? 'pass' : 'fail'}</dkim>
        <spf>${spfAligned ? 'pass' : 'fail'}</spf>${reason}
      </policy_evaluated>
    </row>
    <identifiers>${envelopeTo}${envelopeFrom}
      <header_from>${headerFrom}</header_from>
    </identifiers>
    <auth_results>
${dkimResults.join('')}      <spf>
        <domain>${spfDomain}</domain>
        <scope>mfrom</scope>
        <result>${spfResult}</result>
      </spf>
    </auth_results>
  </record>
`;
  return { xml, count };
}

/**
 * The report as a stream of strings (header, one string per record, footer). `stats` is filled in
 * as it goes: after the generator finishes it holds the totals. Everything is ASCII, so string
 * length is byte length.
 */
export function* reportXml(shape: ReportShape, stats = { records: 0, messages: 0, xmlBytes: 0 }): Generator<string, void, undefined> {
  if (shape.records === undefined && shape.xmlBytes === undefined) throw new Error('give records or xmlBytes');
  const rand = prng(shape.seed ?? 7489);
  const maxRecords = shape.records ?? Infinity;
  const maxBytes = shape.xmlBytes ?? Infinity;
  const head = header(shape.reportId ?? `bench-${shape.seed ?? 7489}`, 1_767_225_600);
  stats.xmlBytes += head.length;
  yield head;
  while (stats.records < maxRecords && stats.xmlBytes + FOOTER.length < maxBytes) {
    const { xml, count } = record(rand);
    stats.records++;
    stats.messages += count;
    stats.xmlBytes += xml.length;
    yield xml;
  }
  stats.xmlBytes += FOOTER.length;
  yield FOOTER;
}

/**
 * Generates and gzips a report in one pass (Node's zlib, level 6 like gzip(1) and most reporters),
 * feeding it ~64 KiB at a time: only the compressed output is kept.
 */
export async function gzipReport(shape: ReportShape): Promise<GeneratedReport> {
  const stats = { records: 0, messages: 0, xmlBytes: 0 };
  const gzip = createGzip({ level: 6 });
  const out: Buffer[] = [];
  gzip.on('data', (chunk: Buffer) => out.push(chunk));
  const ended = once(gzip, 'end');
  let pending: string[] = [];
  let pendingLength = 0;
  for (const piece of reportXml(shape, stats)) {
    pending.push(piece);
    pendingLength += piece.length;
    if (pendingLength >= 64 * 1024) {
      if (!gzip.write(pending.join(''), 'latin1')) await once(gzip, 'drain');
      pending = [];
      pendingLength = 0;
    }
  }
  gzip.end(pending.join(''), 'latin1');
  await ended;
  const gz = Buffer.concat(out);
  out.length = 0;
  return { gz: new Uint8Array(gz.buffer, gz.byteOffset, gz.byteLength), records: stats.records, messages: stats.messages, xmlBytes: stats.xmlBytes };
}
