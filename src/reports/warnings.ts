/**
 * Collects the warnings of one report. A quirk usually repeats in every record (an empty SPF
 * domain in 2,000 records), so warnings are keyed: the first sentence of a key is kept and
 * repeats are counted, and the total is capped so a hostile report cannot grow the list.
 */
export class WarningLog {
  private readonly entries = new Map<string, { text: string; times: number }>();
  private overflow = 0;

  constructor(private readonly maxDistinct = 100) {}

  /** `key` groups repeats of one quirk; `text` is the sentence shown for its first occurrence. */
  add(text: string, key: string = text): void {
    const entry = this.entries.get(key);
    if (entry) {
      entry.times++;
    } else if (this.entries.size < this.maxDistinct) {
      this.entries.set(key, { text, times: 1 });
    } else {
      this.overflow++;
    }
  }

  get size(): number {
    return this.entries.size + (this.overflow > 0 ? 1 : 0);
  }

  list(): string[] {
    const out = [...this.entries.values()].map(({ text, times }) =>
      times > 1 ? `${text} (and ${times - 1} more like it)` : text,
    );
    if (this.overflow > 0) out.push(`${this.overflow} further warnings were left out`);
    return out;
  }
}
