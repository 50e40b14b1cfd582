CREATE TABLE `metrics_snapshots` (
	`month` text NOT NULL,
	`scope` text NOT NULL,
	`computed_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now')) NOT NULL,
	`data` text NOT NULL,
	PRIMARY KEY(`month`, `scope`)
);
