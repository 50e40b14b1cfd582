/** The body of every message on the ingest queue: small, because a queue message holds at most 128 KB. */
export interface IngestMessage {
  inboundId: number;
  /** Set when a long report re-enqueues itself to continue from its checkpoint. */
  continuation?: boolean;
}
