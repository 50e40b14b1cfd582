CREATE TABLE `digest_deliveries` (
	`group_id` integer NOT NULL,
	`week` text NOT NULL,
	`status` text NOT NULL,
	`recipient` text,
	`attempts` integer DEFAULT 1 NOT NULL,
	`error` text,
	`claimed_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now')) NOT NULL,
	`sent_at` text,
	PRIMARY KEY(`group_id`, `week`)
);
--> statement-breakpoint
CREATE INDEX `digest_deliveries_week` ON `digest_deliveries` (`week`,`status`);