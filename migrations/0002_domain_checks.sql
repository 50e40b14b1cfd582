CREATE TABLE `domain_check_changes` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`domain` text NOT NULL,
	`at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now')) NOT NULL,
	`result_id` integer NOT NULL,
	`area` text NOT NULL,
	`kind` text NOT NULL,
	`finding_id` text,
	`detail` text
);
--> statement-breakpoint
CREATE INDEX `domain_check_changes_domain` ON `domain_check_changes` (`domain`,`id`);--> statement-breakpoint
CREATE TABLE `domain_check_results` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`domain` text NOT NULL,
	`checked_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now')) NOT NULL,
	`max_severity` text NOT NULL,
	`result` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `domain_check_results_domain` ON `domain_check_results` (`domain`,`id`);--> statement-breakpoint
CREATE TABLE `domain_check_state` (
	`domain` text PRIMARY KEY NOT NULL,
	`latest_result_id` integer,
	`last_attempt_at` text,
	`last_error` text,
	`consecutive_failures` integer DEFAULT 0 NOT NULL,
	`next_check_at` text
);
--> statement-breakpoint
ALTER TABLE `groups` ADD `notify_webhook` text;--> statement-breakpoint
ALTER TABLE `groups` ADD `notify_email` text;