import type { DnsStatus, Resolver } from '../resolver';
import { hasMisplacedVersion, isDmarcRecord } from './parse';

/** One TXT query as evidence: what was asked, what came back, which records were DMARC records. */
export interface TxtQuery {
  name: string;
  status: DnsStatus;
  /** Every TXT record, character-strings joined. */
  records: string[];
  /** The resolver's reason, for ERROR and TIMEOUT. */
  error?: string;
}

export interface DmarcQuery extends TxtQuery {
  /** The domain whose policy was looked for (the name without `_dmarc.`). */
  domain: string;
  /** Records that start with `v=DMARC1`: what a receiver keeps. */
  dmarc_records: string[];
  /** Records with a `v=DMARC1` tag that is not first: meant as DMARC, ignored by receivers. */
  misplaced_records: string[];
}

/** NOERROR and NXDOMAIN are answers; everything else means the question is still open. */
export function isFailure(status: DnsStatus): boolean {
  return status !== 'NOERROR' && status !== 'NXDOMAIN';
}

/**
 * Wraps the resolver for one evaluation: each name is asked once (RFC 7489 discovery and the tree walk
 * share most names), a resolver that throws becomes an ERROR answer, and every query is recorded.
 */
export class TxtLookup {
  private readonly cache = new Map<string, Promise<TxtQuery>>();

  constructor(private readonly resolver: Resolver) {}

  get queriesMade(): number {
    return this.cache.size;
  }

  txt(name: string): Promise<TxtQuery> {
    const key = name.toLowerCase();
    let pending = this.cache.get(key);
    if (!pending) {
      pending = this.ask(key);
      this.cache.set(key, pending);
    }
    return pending;
  }

  async dmarc(domain: string): Promise<DmarcQuery> {
    const answer = await this.txt(`_dmarc.${domain}`);
    return {
      ...answer,
      domain,
      dmarc_records: answer.records.filter(isDmarcRecord),
      misplaced_records: answer.records.filter(hasMisplacedVersion),
    };
  }

  private async ask(name: string): Promise<TxtQuery> {
    try {
      const answer = await this.resolver.query(name, 'TXT');
      const records = answer.records.flatMap((r) => (r.type === 'TXT' ? [r.text] : []));
      const query: TxtQuery = { name, status: answer.status, records };
      if (answer.error !== undefined) query.error = answer.error;
      return query;
    } catch (error) {
      return { name, status: 'ERROR', records: [], error: error instanceof Error ? error.message : String(error) };
    }
  }
}
