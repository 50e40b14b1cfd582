/** The JSON the reports page reads from /api/aggregatereport/:domain/… (docs/statistics.md). */

export interface Measures {
  reports: number;
  messages: number;
  dmarc_pass: number;
  dmarc_fail: number;
  dkim_aligned_pass: number;
  spf_aligned_pass: number;
  both_aligned_pass: number;
  disposition_none: number;
  disposition_quarantine: number;
  disposition_reject: number;
  overridden: number;
  would_be_blocked_at_reject: number;
}

interface ScopeEcho {
  domain: string;
  include_subdomains: boolean;
  from: string;
  to: string;
}

export interface Summary extends ScopeEcho, Measures {
  failure_reports: number;
  tls: { reports: number; successful_sessions: number; failed_sessions: number; by_organisation: { org_name: string; reports: number; successful_sessions: number; failed_sessions: number }[] };
}

export interface Timeseries extends ScopeEcho {
  interval: 'day' | 'week';
  items: (Measures & { period: string; week?: string })[];
}

export interface Service {
  name: string;
  type: string | null;
}

export interface Source {
  source_ip: string;
  messages: number;
  dmarc_pass: number;
  dmarc_fail: number;
  dkim_pass: number;
  spf_pass: number;
  quarantined: number;
  rejected: number;
  would_be_blocked_at_reject: number;
  ptr: string | null;
  base_domain: string | null;
  service: Service | null;
}

export interface Sources extends ScopeEcho {
  failing: boolean;
  items: Source[];
  next_cursor: string | null;
}

export interface ServiceRow {
  service: Service | null;
  base_domain: string | null;
  sources: number;
  messages: number;
  dmarc_pass: number;
  dmarc_fail: number;
  dkim_aligned_pass: number;
  spf_aligned_pass: number;
  would_be_blocked_at_reject: number;
}

export interface Reporter {
  reporter: string;
  org_name: string;
  reports: number;
  messages: number;
}

export interface TlsRow {
  org_name: string;
  policy_type: string;
  reports: number;
  successful_sessions: number;
  failed_sessions: number;
  failure_types: Record<string, number>;
}

export interface Listing<T> extends ScopeEcho {
  items: T[];
}
