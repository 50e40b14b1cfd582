CREATE TABLE `data_deletions` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`domain` text NOT NULL,
	`requested_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now')) NOT NULL,
	`requested_by` text NOT NULL,
	`done_at` text,
	`counts` text DEFAULT '{}' NOT NULL
);
--> statement-breakpoint
CREATE INDEX `data_deletions_pending` ON `data_deletions` (`done_at`,`id`);--> statement-breakpoint
CREATE TABLE `group_retention` (
	`group_id` integer PRIMARY KEY NOT NULL,
	`raw_days` integer,
	`record_days` integer,
	`updated_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now')) NOT NULL
);
--> statement-breakpoint
CREATE TABLE `purge_runs` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`started_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now')) NOT NULL,
	`finished_at` text,
	`trigger` text NOT NULL,
	`complete` integer DEFAULT false NOT NULL,
	`counts` text DEFAULT '{}' NOT NULL
);
--> statement-breakpoint
CREATE TABLE `raw_purges` (
	`r2_key` text PRIMARY KEY NOT NULL,
	`purged_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now')) NOT NULL,
	`reason` text NOT NULL,
	`object_deleted` integer DEFAULT false NOT NULL
);
--> statement-breakpoint
CREATE TABLE `mta_sts_hosting` (
	`domain` text PRIMARY KEY NOT NULL,
	`enabled` integer DEFAULT false NOT NULL,
	`mode` text DEFAULT 'testing' NOT NULL,
	`updated_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now')) NOT NULL,
	`updated_by` text NOT NULL
);
