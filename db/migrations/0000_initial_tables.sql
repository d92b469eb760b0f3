-- Text columns follow the database default; make it utf8mb4 whatever the server's default
-- (MariaDB's compiled-in default is still latin1). Names that must compare exactly carry
-- their own utf8mb4_bin collation in schema.ts.
ALTER DATABASE CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
--> statement-breakpoint
CREATE TABLE `pulp_server_repo_groups` (
	`pulp_server_id` int unsigned NOT NULL,
	`repo_group_id` int unsigned NOT NULL,
	`schedule` varchar(255),
	`max_concurrent_syncs` smallint unsigned NOT NULL,
	`max_runtime` varchar(16) NOT NULL,
	`pulp_master_id` int unsigned,
	`deb_publish_mode` enum('resign','verbatim') NOT NULL DEFAULT 'resign',
	`date_created` datetime(3) NOT NULL DEFAULT (utc_timestamp(3)),
	`date_last_updated` datetime(3) NOT NULL DEFAULT (utc_timestamp(3)),
	CONSTRAINT `pulp_server_repo_groups__pk` PRIMARY KEY(`pulp_server_id`,`repo_group_id`)
);
--> statement-breakpoint
CREATE TABLE `pulp_server_repo_tasks` (
	`pulp_server_repo_id` int unsigned NOT NULL,
	`task_id` int unsigned NOT NULL,
	`date_created` datetime(3) NOT NULL DEFAULT (utc_timestamp(3)),
	`date_last_updated` datetime(3) NOT NULL DEFAULT (utc_timestamp(3)),
	CONSTRAINT `pulp_server_repo_tasks__pk` PRIMARY KEY(`pulp_server_repo_id`,`task_id`)
);
--> statement-breakpoint
CREATE TABLE `pulp_server_repos` (
	`id` int unsigned AUTO_INCREMENT NOT NULL,
	`pulp_server_id` int unsigned NOT NULL,
	`repo_id` int unsigned NOT NULL,
	`repo_href` text NOT NULL,
	`remote_href` text,
	`remote_feed` text,
	`distribution_href` text,
	`repo_sync_health` enum('green','amber','red'),
	`repo_sync_health_date` datetime(3),
	`date_created` datetime(3) NOT NULL DEFAULT (utc_timestamp(3)),
	`date_last_updated` datetime(3) NOT NULL DEFAULT (utc_timestamp(3)),
	CONSTRAINT `pulp_server_repos_id` PRIMARY KEY(`id`),
	CONSTRAINT `pulp_server_repos__unique__pulp_server_id__repo_id` UNIQUE(`pulp_server_id`,`repo_id`)
);
--> statement-breakpoint
CREATE TABLE `pulp_servers` (
	`id` int unsigned AUTO_INCREMENT NOT NULL,
	`name` varchar(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
	`username` varchar(255) NOT NULL,
	`vault_service_account_mount` varchar(255),
	`snapshot_supported` boolean NOT NULL DEFAULT false,
	`max_concurrent_snapshots` smallint unsigned,
	`repo_config_registration_schedule` varchar(255),
	`repo_config_registration_max_runtime` varchar(16),
	`repo_config_registration_regex_include` text,
	`repo_config_registration_regex_exclude` text,
	`repo_sync_health_rollup` enum('green','amber','red'),
	`repo_sync_health_rollup_date` datetime(3),
	`date_created` datetime(3) NOT NULL DEFAULT (utc_timestamp(3)),
	`date_last_updated` datetime(3) NOT NULL DEFAULT (utc_timestamp(3)),
	CONSTRAINT `pulp_servers_id` PRIMARY KEY(`id`),
	CONSTRAINT `pulp_servers__unique__name` UNIQUE(`name`)
);
--> statement-breakpoint
CREATE TABLE `repo_groups` (
	`id` int unsigned AUTO_INCREMENT NOT NULL,
	`name` varchar(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
	`regex_include` text,
	`regex_exclude` text,
	`date_created` datetime(3) NOT NULL DEFAULT (utc_timestamp(3)),
	`date_last_updated` datetime(3) NOT NULL DEFAULT (utc_timestamp(3)),
	CONSTRAINT `repo_groups_id` PRIMARY KEY(`id`),
	CONSTRAINT `repo_groups__unique__name` UNIQUE(`name`)
);
--> statement-breakpoint
CREATE TABLE `repos` (
	`id` int unsigned AUTO_INCREMENT NOT NULL,
	`name` varchar(512) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
	`repo_type` varchar(32) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
	`date_created` datetime(3) NOT NULL DEFAULT (utc_timestamp(3)),
	`date_last_updated` datetime(3) NOT NULL DEFAULT (utc_timestamp(3)),
	CONSTRAINT `repos_id` PRIMARY KEY(`id`),
	CONSTRAINT `repos__unique__name` UNIQUE(`name`)
);
--> statement-breakpoint
CREATE TABLE `task_stages` (
	`id` int unsigned AUTO_INCREMENT NOT NULL,
	`task_id` int unsigned NOT NULL,
	`position` smallint unsigned NOT NULL,
	`name` varchar(255) NOT NULL,
	`detail` json,
	`error` json,
	`date_created` datetime(3) NOT NULL DEFAULT (utc_timestamp(3)),
	`date_last_updated` datetime(3) NOT NULL DEFAULT (utc_timestamp(3)),
	CONSTRAINT `task_stages_id` PRIMARY KEY(`id`),
	CONSTRAINT `task_stages__unique__task_id__position` UNIQUE(`task_id`,`position`)
);
--> statement-breakpoint
CREATE TABLE `tasks` (
	`id` int unsigned AUTO_INCREMENT NOT NULL,
	`name` varchar(1024) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
	`task_type` enum('repo_sync','repo_group_sync','repo_snapshot','repo_creation_from_git','repo_removal','remove_repo_content') NOT NULL,
	`state` enum('queued','running','completed','failed','canceled','failed_to_start','skipped') NOT NULL,
	`parent_task_id` int unsigned,
	`pulp_server_id` int unsigned,
	`task_args` json NOT NULL,
	`date_queued` datetime(3) NOT NULL,
	`date_started` datetime(3),
	`date_finished` datetime(3),
	`worker_name` varchar(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin,
	`workflow_id` varchar(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin,
	`run_id` varchar(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin,
	`error` json,
	`date_created` datetime(3) NOT NULL DEFAULT (utc_timestamp(3)),
	`date_last_updated` datetime(3) NOT NULL DEFAULT (utc_timestamp(3)),
	CONSTRAINT `tasks_id` PRIMARY KEY(`id`)
);
--> statement-breakpoint
ALTER TABLE `pulp_server_repo_groups` ADD CONSTRAINT `pulp_server_repo_groups__fk__pulp_server_id` FOREIGN KEY (`pulp_server_id`) REFERENCES `pulp_servers`(`id`) ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE `pulp_server_repo_groups` ADD CONSTRAINT `pulp_server_repo_groups__fk__repo_group_id` FOREIGN KEY (`repo_group_id`) REFERENCES `repo_groups`(`id`) ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE `pulp_server_repo_groups` ADD CONSTRAINT `pulp_server_repo_groups__fk__pulp_master_id` FOREIGN KEY (`pulp_master_id`) REFERENCES `pulp_servers`(`id`) ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
ALTER TABLE `pulp_server_repo_tasks` ADD CONSTRAINT `pulp_server_repo_tasks__fk__pulp_server_repo_id` FOREIGN KEY (`pulp_server_repo_id`) REFERENCES `pulp_server_repos`(`id`) ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE `pulp_server_repo_tasks` ADD CONSTRAINT `pulp_server_repo_tasks__fk__task_id` FOREIGN KEY (`task_id`) REFERENCES `tasks`(`id`) ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE `pulp_server_repos` ADD CONSTRAINT `pulp_server_repos__fk__pulp_server_id` FOREIGN KEY (`pulp_server_id`) REFERENCES `pulp_servers`(`id`) ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE `pulp_server_repos` ADD CONSTRAINT `pulp_server_repos__fk__repo_id` FOREIGN KEY (`repo_id`) REFERENCES `repos`(`id`) ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
ALTER TABLE `task_stages` ADD CONSTRAINT `task_stages__fk__task_id` FOREIGN KEY (`task_id`) REFERENCES `tasks`(`id`) ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE `tasks` ADD CONSTRAINT `tasks__fk__parent_task_id` FOREIGN KEY (`parent_task_id`) REFERENCES `tasks`(`id`) ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE `tasks` ADD CONSTRAINT `tasks__fk__pulp_server_id` FOREIGN KEY (`pulp_server_id`) REFERENCES `pulp_servers`(`id`) ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE INDEX `pulp_server_repo_groups__index__repo_group_id` ON `pulp_server_repo_groups` (`repo_group_id`);--> statement-breakpoint
CREATE INDEX `pulp_server_repo_groups__index__pulp_master_id` ON `pulp_server_repo_groups` (`pulp_master_id`);--> statement-breakpoint
CREATE INDEX `pulp_server_repo_tasks__index__task_id` ON `pulp_server_repo_tasks` (`task_id`);--> statement-breakpoint
CREATE INDEX `pulp_server_repos__index__repo_id` ON `pulp_server_repos` (`repo_id`);--> statement-breakpoint
CREATE INDEX `pulp_server_repos__index__repo_sync_health` ON `pulp_server_repos` (`repo_sync_health`);--> statement-breakpoint
CREATE INDEX `pulp_servers__index__repo_sync_health_rollup` ON `pulp_servers` (`repo_sync_health_rollup`);--> statement-breakpoint
CREATE INDEX `repos__index__repo_type` ON `repos` (`repo_type`);--> statement-breakpoint
CREATE INDEX `tasks__index__state` ON `tasks` (`state`);--> statement-breakpoint
CREATE INDEX `tasks__index__task_type` ON `tasks` (`task_type`);--> statement-breakpoint
CREATE INDEX `tasks__index__date_queued` ON `tasks` (`date_queued`);--> statement-breakpoint
CREATE INDEX `tasks__index__date_started` ON `tasks` (`date_started`);--> statement-breakpoint
CREATE INDEX `tasks__index__date_finished` ON `tasks` (`date_finished`);--> statement-breakpoint
CREATE INDEX `tasks__index__parent_task_id` ON `tasks` (`parent_task_id`);--> statement-breakpoint
CREATE INDEX `tasks__index__pulp_server_id__state` ON `tasks` (`pulp_server_id`,`state`);--> statement-breakpoint
CREATE INDEX `tasks__index__worker_name` ON `tasks` (`worker_name`);--> statement-breakpoint
CREATE INDEX `tasks__index__workflow_id` ON `tasks` (`workflow_id`);