-- Before this key, a retried task write could insert a second row for the same workflow run.
-- Each duplicate is merged into the lowest id of its (workflow_id, run_id, task_type) so that
-- adding the key cannot fail on a live database. The workflow may have gone on with either id,
-- so the kept row takes over the duplicates' stages, server repo links, child tasks and final
-- state before they are deleted.
CREATE TEMPORARY TABLE `tasks__duplicates` SELECT d.`id`, k.`keep_id`
FROM `tasks` d
JOIN (
  SELECT `workflow_id`, `run_id`, `task_type`, MIN(`id`) AS `keep_id`
  FROM `tasks`
  WHERE `workflow_id` IS NOT NULL AND `run_id` IS NOT NULL
  GROUP BY `workflow_id`, `run_id`, `task_type`
  HAVING COUNT(*) > 1
) k ON k.`workflow_id` = d.`workflow_id` AND k.`run_id` = d.`run_id` AND k.`task_type` = d.`task_type` AND d.`id` <> k.`keep_id`;--> statement-breakpoint
UPDATE `tasks` k
JOIN `tasks__duplicates` m ON m.`keep_id` = k.`id`
JOIN `tasks` d ON d.`id` = m.`id`
SET k.`state` = d.`state`,
  k.`date_started` = COALESCE(k.`date_started`, d.`date_started`),
  k.`date_finished` = d.`date_finished`,
  k.`error` = d.`error`,
  k.`worker_name` = d.`worker_name`
WHERE k.`state` IN ('queued', 'running') AND d.`state` NOT IN ('queued', 'running');--> statement-breakpoint
-- IGNORE: a stage position or link the kept row already has stays as it is; the duplicate's
-- copy goes with the duplicate (CASCADE).
UPDATE IGNORE `task_stages` s JOIN `tasks__duplicates` m ON m.`id` = s.`task_id` SET s.`task_id` = m.`keep_id`;--> statement-breakpoint
UPDATE IGNORE `pulp_server_repo_tasks` l JOIN `tasks__duplicates` m ON m.`id` = l.`task_id` SET l.`task_id` = m.`keep_id`;--> statement-breakpoint
UPDATE `tasks` c JOIN `tasks__duplicates` m ON m.`id` = c.`parent_task_id` SET c.`parent_task_id` = m.`keep_id`;--> statement-breakpoint
DELETE t FROM `tasks` t JOIN `tasks__duplicates` m ON m.`id` = t.`id`;--> statement-breakpoint
DROP TEMPORARY TABLE `tasks__duplicates`;--> statement-breakpoint
ALTER TABLE `tasks` ADD CONSTRAINT `tasks__unique__workflow_id__run_id__task_type` UNIQUE(`workflow_id`,`run_id`,`task_type`);--> statement-breakpoint
-- The unique key starts with workflow_id and serves its lookups.
DROP INDEX `tasks__index__workflow_id` ON `tasks`;
