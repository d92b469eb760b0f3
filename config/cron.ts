import { CronExpressionParser } from 'cron-parser';

/**
 * Returns why a cron expression is unusable, or undefined when it is valid. Schedules are
 * classic 5-field crontab lines (what Temporal's cron strings and the original RQ scheduler
 * take) or an @-macro; cron-parser does the field checking but silently accepts 4 or 6 fields.
 */
export function cronProblem(expression: string): string | undefined {
  const trimmed = expression.trim();
  if (trimmed === '') return 'cron expression is empty';
  if (!trimmed.startsWith('@')) {
    const fields = trimmed.split(/\s+/).length;
    if (fields !== 5) return `cron expression "${expression}" has ${fields} fields, expected 5`;
  }
  try {
    CronExpressionParser.parse(trimmed);
    return undefined;
  } catch (err) {
    return `invalid cron expression "${expression}": ${(err as Error).message}`;
  }
}
