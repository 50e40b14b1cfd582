CREATE TABLE `alert_deliveries` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`alert_id` integer NOT NULL,
	`group_id` integer NOT NULL,
	`channel` text NOT NULL,
	`event` text NOT NULL,
	`state` text DEFAULT 'pending' NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`last_error` text,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now')) NOT NULL,
	`next_attempt_at` text,
	`sent_at` text
);
--> statement-breakpoint
CREATE UNIQUE INDEX `alert_deliveries_key` ON `alert_deliveries` (`alert_id`,`group_id`,`channel`,`event`);--> statement-breakpoint
CREATE INDEX `alert_deliveries_pending` ON `alert_deliveries` (`state`,`id`);--> statement-breakpoint
CREATE TABLE `alerts` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`domain` text NOT NULL,
	`kind` text NOT NULL,
	`subject` text NOT NULL,
	`state` text DEFAULT 'open' NOT NULL,
	`severity` text NOT NULL,
	`title` text NOT NULL,
	`detail` text NOT NULL,
	`opened_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now')) NOT NULL,
	`last_seen_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now')) NOT NULL,
	`acknowledged_at` text,
	`acknowledged_by` text,
	`resolved_at` text
);
--> statement-breakpoint
CREATE UNIQUE INDEX `alerts_active_key` ON `alerts` (`domain`,`kind`,`subject`) WHERE state <> 'resolved';--> statement-breakpoint
CREATE INDEX `alerts_domain` ON `alerts` (`domain`,`id`);--> statement-breakpoint
CREATE INDEX `alerts_state` ON `alerts` (`state`,`id`);--> statement-breakpoint
CREATE TABLE `group_alert_settings` (
	`group_id` integer PRIMARY KEY NOT NULL,
	`webhook_format` text DEFAULT 'json' NOT NULL,
	`webhook_kinds` text DEFAULT '' NOT NULL,
	`email_kinds` text DEFAULT '' NOT NULL,
	`updated_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now')) NOT NULL
);
