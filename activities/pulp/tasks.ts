import { type PulpClient, type PulpSchemas, unwrap } from './client.js';
import { type PulpTaskError, PulpTaskFailedError } from './errors.js';

export type PulpTask = PulpSchemas['TaskResponse'];

export const PULP_TASK_STATES = [
  'waiting',
  'skipped',
  'running',
  'canceling',
  'completed',
  'failed',
  'canceled',
] as const;
export type PulpTaskState = (typeof PULP_TASK_STATES)[number];
const FINAL_STATES: ReadonlySet<string> = new Set(['skipped', 'completed', 'failed', 'canceled']);
export const isFinalTaskState = (state: string) => FINAL_STATES.has(state);

export async function readPulpTask(client: PulpClient, taskHref: string): Promise<PulpTask> {
  return unwrap(client.GET('{task_href}', { params: { path: { task_href: taskHref } } }));
}

export interface WaitOptions {
  /** Called after every poll: activities heartbeat here with the task href. */
  onPoll?: (task: PulpTask) => void | Promise<void>;
  minIntervalMs?: number;
  maxIntervalMs?: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Polls a Pulp task until it reaches a final state, starting fast (most API-triggered tasks
 * finish in a second or two) and backing off to maxIntervalMs for long syncs.
 * Resolves for completed and skipped; throws PulpTaskFailedError for failed and canceled.
 */
export async function waitForPulpTask(
  client: PulpClient,
  taskHref: string,
  opts: WaitOptions = {},
): Promise<PulpTask> {
  const { minIntervalMs = 250, maxIntervalMs = 5000 } = opts;
  let interval = minIntervalMs;
  for (;;) {
    const task = await readPulpTask(client, taskHref);
    await opts.onPoll?.(task);
    if (isFinalTaskState(task.state ?? '')) {
      if (task.state === 'completed' || task.state === 'skipped') return task;
      throw new PulpTaskFailedError(taskHref, task.state ?? 'unknown', task.error as PulpTaskError | null);
    }
    await sleep(interval);
    interval = Math.min(maxIntervalMs, Math.round(interval * 1.5));
  }
}

/** Pulp answers a task-starting call with {task}; the task's created_resources hold the result. */
export function createdResource(task: PulpTask, pathPart: string): string | undefined {
  return (task.created_resources ?? []).find((h) => h?.includes(pathPart)) ?? undefined;
}

/**
 * Asks Pulp to cancel a task and waits until it is final: Pulp answers 409 when the task can
 * no longer be canceled (it finished meanwhile), which is fine. Returns the final task.
 */
export async function cancelPulpTask(client: PulpClient, taskHref: string): Promise<PulpTask> {
  const { response } = await client.PATCH('{task_href}', {
    params: { path: { task_href: taskHref } },
    body: { state: 'canceled' },
  });
  if (!response.ok && response.status !== 409) {
    throw new Error(`cancel of Pulp task ${taskHref} answered ${response.status}`);
  }
  for (let interval = 250; ; interval = Math.min(interval * 2, 2000)) {
    const task = await readPulpTask(client, taskHref);
    if (isFinalTaskState(task.state ?? '')) return task;
    await sleep(interval);
  }
}

/** A task still holding (or waiting for) the repository: adopting it makes "start sync" idempotent. */
export async function findLiveTaskOn(client: PulpClient, resource: string): Promise<string | undefined> {
  const page = await unwrap(
    client.GET('/pulp/api/v3/tasks/', {
      params: { query: { reserved_resources: resource, state__in: ['waiting', 'running'], limit: 1 } },
    }),
  );
  return page.results[0]?.pulp_href ?? undefined;
}
