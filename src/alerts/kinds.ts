/**
 * The alert kinds and their thresholds (docs/alerts.md says why each is what it is). Pure: no
 * platform API, so the docs, the API schemas and the evaluators share one list.
 */

export const ALERT_KINDS = [
  'record_changed',
  'record_removed',
  'error_finding',
  'new_source',
  'pass_rate_drop',
  'reports_stopped',
  'certificate_expiring',
  'tls_grade_fell',
  'tlsrpt_failures',
] as const;
export type AlertKind = (typeof ALERT_KINDS)[number];

export const ALERT_STATES = ['open', 'acknowledged', 'resolved'] as const;
export type AlertState = (typeof ALERT_STATES)[number];

export const ALERT_SEVERITIES = ['error', 'warning', 'info'] as const;
export type AlertSeverity = (typeof ALERT_SEVERITIES)[number];

export const WEBHOOK_FORMATS = ['json', 'slack', 'teams'] as const;
export type WebhookFormat = (typeof WEBHOOK_FORMATS)[number];

export const KIND_TITLES: Record<AlertKind, string> = {
  record_changed: 'A DNS record changed',
  record_removed: 'A DNS record disappeared',
  error_finding: 'A check found a new error',
  new_source: 'A new source sends as the domain',
  pass_rate_drop: 'The DMARC pass rate fell',
  reports_stopped: 'Aggregate reports stopped arriving',
  certificate_expiring: 'An MX certificate expires soon',
  tls_grade_fell: "A mail server's TLS grade fell",
  tlsrpt_failures: 'TLS-RPT shows a jump in failed sessions',
};

/**
 * A record change is news, not a lasting condition: once the new record has stood this long without
 * changing again it is the new normal and the alert resolves (a revert resolves it at once).
 */
export const RECORD_CHANGE_SETTLES_DAYS = 7;

/** A source is new when the domain's reports did not show it in this many days before. */
export const NEW_SOURCE_LOOKBACK_DAYS = 30;
/** The recent window, in report days, in which a new source's messages are counted. */
export const NEW_SOURCE_WINDOW_DAYS = 3;
/**
 * Messages a new source must send in the window. Below it, one-off forwarders and mailing-list
 * hops (a message or two from an IP never seen again) would bury the sources that matter.
 */
export const NEW_SOURCE_MIN_MESSAGES = 50;
/**
 * Report days the domain must have in the lookback before the window. A domain whose reports have just
 * started has no baseline: every source would be "new".
 */
export const NEW_SOURCE_MIN_HISTORY_DAYS = 7;
/** A new source's alert resolves when the source has not sent for this many report days. */
export const NEW_SOURCE_QUIET_DAYS = 7;

/**
 * "Well below the baseline": at least 15 percentage points under the pass rate of the 7 report days
 * before. Day-to-day the rate moves a few points as receivers report at different times and
 * forwarded mail comes and goes; 15 points is a new unauthenticated stream or a broken DKIM key or SPF
 * include, not noise. Both the day and the baseline need PASS_RATE_MIN_MESSAGES, since on a few dozen
 * messages one forwarded newsletter moves the rate by that much.
 */
export const PASS_RATE_DROP_POINTS = 15;
export const PASS_RATE_BASELINE_DAYS = 7;
export const PASS_RATE_MIN_MESSAGES = 100;
/** Resolves under half the firing drop, so a rate hovering at the threshold does not flap. */
export const PASS_RATE_RECOVERED_POINTS = 7.5;

/**
 * Reports stopped: the domain had reports for at least REPORTS_USUAL_DAYS of the 14 days up to its last
 * report day ("used to get them daily": receivers skip a day now and then), and its last report day is
 * more than REPORTS_LATE_DAYS ago. Reports for a day arrive during the next day or two, so three days
 * without one is a real silence, not latency. Domains silent for longer than REPORTS_FORGET_DAYS are not
 * alerted on afresh: that is an old state of affairs, not news.
 */
export const REPORTS_USUAL_DAYS = 10;
export const REPORTS_LATE_DAYS = 3;
export const REPORTS_FORGET_DAYS = 30;

/** Days before an MX certificate's notAfter at which its alert opens (expired ones too). */
export const CERTIFICATE_WARNING_DAYS = 14;

/** Best to worst, as in src/tls/grading/domain.ts; `inconclusive` is not a grade and never counts. */
export const GRADE_ORDER = ['good', 'sufficient', 'phase_out', 'insufficient', 'no_tls'] as const;

/**
 * A jump in TLS-RPT failures: on the domain's latest report day at least TLSRPT_MIN_FAILED failed
 * sessions and a failure rate TLSRPT_JUMP_POINTS percentage points above the 7 report days before.
 * Senders retry, so a few failures a day are normal; a jump of 10 points is a certificate, MTA-STS
 * policy or STARTTLS problem at an MX. Resolves under half the jump. A failure that persists for a
 * week becomes the baseline and the alert resolves: it says "something changed", the TLS page says
 * what is wrong.
 */
export const TLSRPT_MIN_FAILED = 10;
export const TLSRPT_JUMP_POINTS = 10;
export const TLSRPT_RECOVERED_POINTS = 5;
export const TLSRPT_BASELINE_DAYS = 7;

/**
 * Workers limits: each webhook or email is a subrequest. An evaluation after a check, a report or a
 * probe result sends at most DELIVERIES_PER_EVENT messages (those of the domains it evaluated); the
 * daily run at most DELIVERIES_PER_DAILY_RUN (any domain). The rest stay pending for the next run,
 * nothing is lost; a failed delivery is retried with backoff up to DELIVERY_MAX_ATTEMPTS times.
 */
export const DELIVERIES_PER_EVENT = 10;
export const DELIVERIES_PER_DAILY_RUN = 50;
export const DELIVERY_MAX_ATTEMPTS = 8;
export const DELIVERY_TIMEOUT_MS = 10_000;
/** Alerts the daily run opens at most (one D1 batch each); the rest open the next day. */
export const DAILY_OPEN_LIMIT = 200;

export function isAlertKind(value: string): value is AlertKind {
  return (ALERT_KINDS as readonly string[]).includes(value);
}
