-- Each link of a task to a server repo carries the task's date_queued, so that a repo's tasks
-- by date are one index range (the API's repo task list, the health window). Existing links are
-- filled from their tasks before the column becomes NOT NULL: on a year of a 50,000-repo fleet
-- (900,000 links) this UPDATE takes tens of seconds, once.
ALTER TABLE `pulp_server_repo_tasks` ADD `task_date_queued` datetime(3) NULL;--> statement-breakpoint
UPDATE `pulp_server_repo_tasks` l JOIN `tasks` t ON t.`id` = l.`task_id` SET l.`task_date_queued` = t.`date_queued`;--> statement-breakpoint
ALTER TABLE `pulp_server_repo_tasks` MODIFY `task_date_queued` datetime(3) NOT NULL;--> statement-breakpoint
CREATE INDEX `pulp_server_repo_tasks__index__repo__date_queued` ON `pulp_server_repo_tasks` (`pulp_server_repo_id`,`task_date_queued`,`task_id`);
