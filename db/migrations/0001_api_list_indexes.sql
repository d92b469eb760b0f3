DROP INDEX `pulp_server_repos__index__repo_sync_health` ON `pulp_server_repos`;--> statement-breakpoint
CREATE INDEX `pulp_server_repos__index__pulp_server_id` ON `pulp_server_repos` (`pulp_server_id`);--> statement-breakpoint
CREATE INDEX `pulp_server_repos__index__pulp_server_id__repo_sync_health` ON `pulp_server_repos` (`pulp_server_id`,`repo_sync_health`);--> statement-breakpoint
CREATE INDEX `pulp_server_repos__index__pulp_server_id__repo_sync_health_date` ON `pulp_server_repos` (`pulp_server_id`,`repo_sync_health_date`);--> statement-breakpoint
CREATE INDEX `tasks__index__state__date_queued` ON `tasks` (`state`,`date_queued`);