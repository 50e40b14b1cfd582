ALTER TABLE `aggregate_daily` ADD `fail_not_rejected` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `aggregate_daily_sources` ADD `fail_not_rejected` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
-- Backfill from the stored records of complete reports (once; new reports fill the column at ingest).
-- A failing message is one where neither aligned DKIM nor aligned SPF passed; NULLs count as not pass.
UPDATE `aggregate_daily` SET `fail_not_rejected` = coalesce((
  SELECT sum(CASE WHEN r.dkim = 'pass' OR r.spf = 'pass' THEN 0 WHEN r.disposition = 'reject' THEN 0 ELSE r.count END)
  FROM aggregate_records r JOIN aggregate_reports a ON a.id = r.report_id
  WHERE a.status = 'complete' AND a.domain = aggregate_daily.domain AND a.day = aggregate_daily.day
    AND coalesce(lower(r.header_from), a.domain) = aggregate_daily.header_from), 0);
--> statement-breakpoint
UPDATE `aggregate_daily_sources` SET `fail_not_rejected` = coalesce((
  SELECT sum(CASE WHEN r.dkim = 'pass' OR r.spf = 'pass' THEN 0 WHEN r.disposition = 'reject' THEN 0 ELSE r.count END)
  FROM aggregate_records r JOIN aggregate_reports a ON a.id = r.report_id
  WHERE a.status = 'complete' AND a.domain = aggregate_daily_sources.domain AND a.day = aggregate_daily_sources.day
    AND r.source_ip = aggregate_daily_sources.source_ip), 0);
