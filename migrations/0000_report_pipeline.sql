CREATE TABLE `aggregate_daily` (
	`domain` text NOT NULL,
	`header_from` text NOT NULL,
	`day` text NOT NULL,
	`reports` integer DEFAULT 0 NOT NULL,
	`messages` integer DEFAULT 0 NOT NULL,
	`dmarc_pass` integer DEFAULT 0 NOT NULL,
	`dkim_pass` integer DEFAULT 0 NOT NULL,
	`spf_pass` integer DEFAULT 0 NOT NULL,
	`both_pass` integer DEFAULT 0 NOT NULL,
	`disposition_none` integer DEFAULT 0 NOT NULL,
	`disposition_quarantine` integer DEFAULT 0 NOT NULL,
	`disposition_reject` integer DEFAULT 0 NOT NULL,
	`overridden` integer DEFAULT 0 NOT NULL,
	PRIMARY KEY(`domain`, `day`, `header_from`)
);
--> statement-breakpoint
CREATE TABLE `aggregate_daily_sources` (
	`domain` text NOT NULL,
	`day` text NOT NULL,
	`source_ip` text NOT NULL,
	`messages` integer DEFAULT 0 NOT NULL,
	`dmarc_pass` integer DEFAULT 0 NOT NULL,
	`dkim_pass` integer DEFAULT 0 NOT NULL,
	`spf_pass` integer DEFAULT 0 NOT NULL,
	`disposition_quarantine` integer DEFAULT 0 NOT NULL,
	`disposition_reject` integer DEFAULT 0 NOT NULL,
	PRIMARY KEY(`domain`, `day`, `source_ip`)
);
--> statement-breakpoint
CREATE TABLE `aggregate_records` (
	`report_id` integer NOT NULL,
	`ordinal` integer NOT NULL,
	`source_ip` text NOT NULL,
	`count` integer NOT NULL,
	`disposition` text,
	`dkim` text,
	`spf` text,
	`header_from` text,
	`envelope_from` text,
	`envelope_to` text,
	PRIMARY KEY(`report_id`, `ordinal`)
);
--> statement-breakpoint
CREATE INDEX `aggregate_records_source_ip` ON `aggregate_records` (`source_ip`);--> statement-breakpoint
CREATE TABLE `aggregate_reports` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`inbound_id` integer NOT NULL,
	`reporter` text NOT NULL,
	`report_id` text NOT NULL,
	`domain` text NOT NULL,
	`org_name` text NOT NULL,
	`org_email` text,
	`extra_contact_info` text,
	`generator` text,
	`schema` text NOT NULL,
	`version` text,
	`begin_at` text NOT NULL,
	`end_at` text NOT NULL,
	`day` text NOT NULL,
	`p` text,
	`sp` text,
	`np` text,
	`adkim` text,
	`aspf` text,
	`pct` integer,
	`fo` text,
	`testing` text,
	`discovery_method` text,
	`content_sha256` text,
	`status` text DEFAULT 'ingesting' NOT NULL,
	`records_ingested` integer DEFAULT 0 NOT NULL,
	`record_count` integer,
	`message_count` integer,
	`warnings` text,
	`errors` text,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now')) NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `aggregate_reports_dedupe` ON `aggregate_reports` (`reporter`,`report_id`,`domain`);--> statement-breakpoint
CREATE INDEX `aggregate_reports_domain_day` ON `aggregate_reports` (`domain`,`day`);--> statement-breakpoint
CREATE INDEX `aggregate_reports_inbound` ON `aggregate_reports` (`inbound_id`);--> statement-breakpoint
CREATE TABLE `failure_daily` (
	`domain` text NOT NULL,
	`day` text NOT NULL,
	`reports` integer DEFAULT 0 NOT NULL,
	PRIMARY KEY(`domain`, `day`)
);
--> statement-breakpoint
CREATE TABLE `failure_report_receipts` (
	`key` text PRIMARY KEY NOT NULL,
	`domain` text NOT NULL,
	`day` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `inbound_messages` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`received_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now')) NOT NULL,
	`updated_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now')) NOT NULL,
	`source` text NOT NULL,
	`mail_from` text,
	`rcpt_to` text,
	`filename` text,
	`content_type` text,
	`sha256` text NOT NULL,
	`r2_key` text NOT NULL,
	`size` integer NOT NULL,
	`status` text DEFAULT 'received' NOT NULL,
	`reason` text,
	`reason_code` text,
	`duplicate_of` integer,
	`attempts` integer DEFAULT 0 NOT NULL,
	`last_error` text,
	`processing_ms` integer DEFAULT 0 NOT NULL,
	`summary` text
);
--> statement-breakpoint
CREATE INDEX `inbound_sha256` ON `inbound_messages` (`sha256`);--> statement-breakpoint
CREATE INDEX `inbound_status` ON `inbound_messages` (`status`,`id`);--> statement-breakpoint
CREATE TABLE `record_dkim_results` (
	`report_id` integer NOT NULL,
	`ordinal` integer NOT NULL,
	`idx` integer NOT NULL,
	`domain` text NOT NULL,
	`selector` text,
	`result` text NOT NULL,
	`human_result` text,
	PRIMARY KEY(`report_id`, `ordinal`, `idx`)
);
--> statement-breakpoint
CREATE TABLE `record_policy_overrides` (
	`report_id` integer NOT NULL,
	`ordinal` integer NOT NULL,
	`idx` integer NOT NULL,
	`type` text NOT NULL,
	`comment` text,
	PRIMARY KEY(`report_id`, `ordinal`, `idx`)
);
--> statement-breakpoint
CREATE TABLE `record_spf_results` (
	`report_id` integer NOT NULL,
	`ordinal` integer NOT NULL,
	`idx` integer NOT NULL,
	`domain` text NOT NULL,
	`scope` text,
	`result` text NOT NULL,
	`human_result` text,
	PRIMARY KEY(`report_id`, `ordinal`, `idx`)
);
--> statement-breakpoint
CREATE TABLE `tls_report_failures` (
	`tls_report_id` integer NOT NULL,
	`policy_idx` integer NOT NULL,
	`idx` integer NOT NULL,
	`result_type` text NOT NULL,
	`sending_mta_ip` text,
	`receiving_mx_hostname` text,
	`receiving_mx_helo` text,
	`receiving_ip` text,
	`failed_session_count` integer NOT NULL,
	`additional_information` text,
	`failure_reason_code` text,
	PRIMARY KEY(`tls_report_id`, `policy_idx`, `idx`)
);
--> statement-breakpoint
CREATE TABLE `tls_report_policies` (
	`tls_report_id` integer NOT NULL,
	`idx` integer NOT NULL,
	`policy_type` text NOT NULL,
	`policy_domain` text NOT NULL,
	`policy_string` text NOT NULL,
	`mx_host` text NOT NULL,
	`successful_sessions` integer NOT NULL,
	`failed_sessions` integer NOT NULL,
	PRIMARY KEY(`tls_report_id`, `idx`)
);
--> statement-breakpoint
CREATE INDEX `tls_report_policies_domain` ON `tls_report_policies` (`policy_domain`);--> statement-breakpoint
CREATE TABLE `tls_reports` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`inbound_id` integer NOT NULL,
	`reporter` text NOT NULL,
	`report_id` text NOT NULL,
	`org_name` text NOT NULL,
	`org_email` text,
	`begin_at` text NOT NULL,
	`end_at` text NOT NULL,
	`content_sha256` text NOT NULL,
	`warnings` text,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now')) NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `tls_reports_dedupe` ON `tls_reports` (`reporter`,`report_id`);