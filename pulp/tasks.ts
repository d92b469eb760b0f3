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

/** Share of a task's age waited before the next poll: a task is noticed done at most ~5% late. */
const POLL_FRACTION_OF_AGE = 0.05;
/** The first wait; it doubles up to minIntervalMs. */
const FIRST_POLL_WAIT_MS = 50;

/**
 * Polls a Pulp task until it reaches a final state. The first waits are short and double (50,
 * 100 ms) because many Pulp tasks finish within a few hundred ms (a distribution update, a
 * publish, a sync with nothing new); after that the wait grows with the task's age (5% of it,
 * between minIntervalMs and maxIntervalMs): a 2 s publish is seen done within 150 ms, a 10 min
 * sync within 5 s, so the time lost to polling stays a small fraction of Pulp's own work at a
 * handful of requests per task. A fixed backoff to the maximum instead added seconds to every
 * short task, which over thousands of repos dominated the makespan.
 * Resolves for completed and skipped; throws PulpTaskFailedError for failed and canceled.
 */
export async function waitForPulpTask(
  client: PulpClient,
  taskHref: string,
  opts: WaitOptions = {},
): Promise<PulpTask> {
  const { minIntervalMs = 150, maxIntervalMs = 5000 } = opts;
  const since = Date.now();
  for (let polls = 1; ; polls++) {
    const task = await readPulpTask(client, taskHref);
    await opts.onPoll?.(task);
    if (isFinalTaskState(task.state ?? '')) {
      if (task.state === 'completed' || task.state === 'skipped') return task;
      throw new PulpTaskFailedError(taskHref, task.state ?? 'unknown', task.error as PulpTaskError | null);
    }
    await sleep(nextPollWaitMs(polls, Date.now() - since, minIntervalMs, maxIntervalMs));
  }
}

/** The wait after the `polls`-th read of a task that is `ageMs` old (see waitForPulpTask). */
export function nextPollWaitMs(
  polls: number,
  ageMs: number,
  minIntervalMs: number,
  maxIntervalMs: number,
): number {
  const early = Math.min(minIntervalMs, FIRST_POLL_WAIT_MS * 2 ** Math.min(polls - 1, 16));
  return Math.min(maxIntervalMs, Math.max(early, Math.round(ageMs * POLL_FRACTION_OF_AGE)));
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

/** The kinds of Pulp task Pulp Manager starts, by the part of the task name each plugin shares. */
export const PULP_TASK_KINDS = {
  sync: '.synchronizing.synchronize',
  // pulpcore's add_and_remove, or the rpm/deb plugins' signed_add_and_remove.
  modify: 'add_and_remove',
  publish: '.publishing.publish',
  copy: '.copy_content',
  'delete-version': '.delete_version',
  update: '.general_update',
  delete: '.general_delete',
} as const;
export type PulpTaskKind = keyof typeof PULP_TASK_KINDS;

export interface AdoptQuery {
  /** When the activity's first attempt was scheduled: tasks created before are someone else's. */
  since: Date;
  /** First attempt: nothing of ours can exist yet, so only `anyLive` adoption applies. */
  liveOnly: boolean;
  /** Also adopt a waiting/running task of this kind created before `since` (syncs). */
  anyLive: boolean;
  /** Tasks another step of the same activity already owns. */
  exclude: readonly string[];
}

/**
 * The Pulp task of `kind` on `resource` that an activity should follow instead of starting one,
 * if any: on a retried attempt, the newest task of that kind created since the first attempt
 * (in any state: the lost POST's task may have finished meanwhile); with `anyLive`, a task of
 * that kind still waiting or running on the resource whoever started it. A task of another kind
 * (a content removal, a version delete) is never taken for a sync, nor the reverse.
 */
export async function findTaskToAdopt(
  client: PulpClient,
  kind: PulpTaskKind,
  resource: string,
  q: AdoptQuery,
): Promise<string | undefined> {
  const list = async (extra: Record<string, unknown>) => {
    const page = await unwrap(
      client.GET('/pulp/api/v3/tasks/', {
        params: {
          query: {
            reserved_resources: resource,
            name__contains: PULP_TASK_KINDS[kind],
            ordering: ['-pulp_created'],
            limit: 10,
            ...extra,
          },
        },
      }),
    );
    return page.results
      .map((t) => t.pulp_href)
      .find((href): href is string => Boolean(href) && !q.exclude.includes(href as string));
  };
  if (!q.liveOnly) {
    const ours = await list({ pulp_created__gte: q.since.toISOString() });
    if (ours) return ours;
  }
  return q.anyLive ? list({ state__in: ['waiting', 'running'] }) : undefined;
}
