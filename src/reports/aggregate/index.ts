/** DMARC aggregate (RUA) reports: streaming parser and its collecting wrapper. */
export {
  DEFAULT_BATCH_SIZE,
  streamAggregateReport,
  type AggregateEvent,
  type AggregateStreamOptions,
  type TextSource,
} from './stream';
export { parseAggregateReport } from './parse';
export { MAX_FRAGMENT_CHARS } from './split';
