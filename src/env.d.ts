interface Env { DB: D1Database; RAW_REPORTS: R2Bucket; INGEST_QUEUE: Queue; }
