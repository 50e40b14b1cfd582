/**
 * How much one queue invocation may do before it checkpoints and hands the rest to a fresh
 * invocation: Workers allow 1,000 D1 queries per invocation (paid plan) and a consumer's CPU time is
 * limited (30 s by default), so a 200,000-record report is split across several invocations.
 */
export interface WorkBudgetLimits {
  maxRecords: number;
  maxQueries: number;
  maxMillis: number;
}

/** ~7 s of work per 100,000 records (npm run bench): the wall-time bound is the one that usually binds. */
export const DEFAULT_WORK_BUDGET: WorkBudgetLimits = { maxRecords: 500_000, maxQueries: 600, maxMillis: 120_000 };

export class WorkBudget {
  private records = 0;
  private queries = 0;
  private readonly started = Date.now();

  constructor(private readonly limits: WorkBudgetLimits = DEFAULT_WORK_BUDGET) {}

  spendRecords(n: number): void {
    this.records += n;
  }

  spendQuery(n = 1): void {
    this.queries += n;
  }

  exhausted(): boolean {
    return (
      this.records >= this.limits.maxRecords ||
      this.queries >= this.limits.maxQueries ||
      Date.now() - this.started >= this.limits.maxMillis
    );
  }
}
