CREATE TABLE `mx_addresses` (
	`domain` text NOT NULL,
	`host` text NOT NULL,
	`ip` text NOT NULL,
	`preference` integer NOT NULL,
	`seen_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now')) NOT NULL,
	PRIMARY KEY(`domain`, `host`, `ip`)
);
--> statement-breakpoint
CREATE INDEX `mx_addresses_ip` ON `mx_addresses` (`ip`);--> statement-breakpoint
CREATE TABLE `tls_certificates` (
	`sha256` text PRIMARY KEY NOT NULL,
	`der` text NOT NULL,
	`subject` text NOT NULL,
	`issuer` text NOT NULL,
	`not_before` text NOT NULL,
	`not_after` text NOT NULL,
	`first_seen_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now')) NOT NULL,
	`last_seen_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now')) NOT NULL
);
--> statement-breakpoint
CREATE TABLE `tls_probe_results` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`ip` text NOT NULL,
	`port` integer NOT NULL,
	`host` text NOT NULL,
	`first_scanned_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now')) NOT NULL,
	`scanned_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now')) NOT NULL,
	`status` text NOT NULL,
	`grade` text NOT NULL,
	`digest` text NOT NULL,
	`result` text NOT NULL,
	`findings` text NOT NULL,
	`agent` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `tls_probe_results_server` ON `tls_probe_results` (`ip`,`port`,`id`);--> statement-breakpoint
CREATE TABLE `tls_server_certificates` (
	`ip` text NOT NULL,
	`port` integer NOT NULL,
	`position` integer NOT NULL,
	`sha256` text NOT NULL,
	PRIMARY KEY(`ip`, `port`, `position`)
);
--> statement-breakpoint
CREATE INDEX `tls_server_certificates_sha256` ON `tls_server_certificates` (`sha256`);--> statement-breakpoint
CREATE TABLE `tls_servers` (
	`ip` text NOT NULL,
	`port` integer NOT NULL,
	`latest_result_id` integer NOT NULL,
	`scanned_at` text NOT NULL,
	`grade` text NOT NULL,
	PRIMARY KEY(`ip`, `port`)
);
