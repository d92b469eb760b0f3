import type { RepoHealthStatus, TaskState } from '../db/enums.js';

/** How many of a repo's most recent sync tasks its health looks at. */
export const HEALTH_WINDOW = 5;

/**
 * Health of one repo from its latest sync tasks, newest first: the latest completed → green;
 * otherwise at most 3 failures and at least one success among them → amber; otherwise red.
 * Tasks still queued or running do not count.
 */
export function repoHealth(newestFirst: readonly TaskState[]): RepoHealthStatus {
  const finished = newestFirst.filter((s) => s !== 'queued' && s !== 'running').slice(0, HEALTH_WINDOW);
  if (finished[0] === 'completed') return 'green';
  const successes = finished.filter((s) => s === 'completed').length;
  const failures = finished.length - successes;
  return failures <= 3 && successes >= 1 ? 'amber' : 'red';
}

/** A server's rollup: any red → red, else any amber → amber, else green. */
export function healthRollup(statuses: readonly RepoHealthStatus[]): RepoHealthStatus {
  if (statuses.includes('red')) return 'red';
  if (statuses.includes('amber')) return 'amber';
  return 'green';
}
