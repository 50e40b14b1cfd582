import { ReportRejection } from '../model';
import type { UnpackLimits } from './limits';

/** Counts what one decompression stream produced and stops it at the caps. */
export class OutputBudget {
  private produced = 0;

  constructor(
    private readonly limits: UnpackLimits,
    /** Names the stream in the rejection, e.g. `gzip data` or `zip entry "a.xml"`. */
    private readonly subject: string,
  ) {}

  get total(): number {
    return this.produced;
  }

  /** `compressedBytes`: input consumed so far (or the entry's compressed size when known). */
  add(outputBytes: number, compressedBytes: number): void {
    this.produced += outputBytes;
    const { maxOutputBytes, maxRatio, ratioCheckAfterBytes } = this.limits;
    if (this.produced > maxOutputBytes) {
      throw new ReportRejection(
        'decompression-bomb',
        `${this.subject} decompresses to more than ${maxOutputBytes} bytes, the limit for one report`,
      );
    }
    if (this.produced > ratioCheckAfterBytes && this.produced / Math.max(1, compressedBytes) > maxRatio) {
      throw new ReportRejection(
        'decompression-bomb',
        `${this.subject} expands more than ${maxRatio} times (${this.produced} bytes from ${compressedBytes}); reports never do`,
      );
    }
  }
}
