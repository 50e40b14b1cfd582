/**
 * DNS queries one domain check may make. Each DoH query is a subrequest; Workers Paid allows 1,000
 * per invocation, and a DomainMonitor alarm checks one domain, so this leaves room for the MTA-STS
 * fetch and the webhook. The CLI uses the same budget.
 */
export const QUERIES_PER_CHECK = 400;
