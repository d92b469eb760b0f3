import { ApplicationFailure, Context, log } from '@temporalio/activity';
import type { PulpClient } from '../../pulp/client.js';
import {
  isWorkerVanished,
  PulpApiError,
  type PulpTaskError,
  PulpTaskFailedError,
} from '../../pulp/errors.js';
import {
  cancelPulpTask,
  findTaskToAdopt,
  type PulpTask,
  type PulpTaskKind,
  readPulpTask,
  waitForPulpTask,
} from '../../pulp/tasks.js';
import { HEARTBEAT_EVERY_MS, withHeartbeatTicker } from '../heartbeat.js';

/**
 * The heartbeat details of every activity that starts or follows Pulp tasks: the href of the
 * Pulp task of each step, and the values a later step needs (the repository's version before
 * the sync, …). A new attempt (worker crash, deploy, heartbeat timeout) reads them back and
 * resumes where the last attempt was, never starting a second task for a step.
 */
export interface StepProgress {
  /** Pulp task href per step name, set as soon as the task exists. */
  tasks: Record<string, string>;
  values: Record<string, unknown>;
}

/**
 * Reads the details a previous attempt left. `{taskHref, baseVersionHref}` is what attempts
 * started by releases before StepProgress recorded; such an attempt may still be open when a
 * new worker takes over, so it is read as the step `legacyStep`.
 */
export function readStepProgress(details: unknown, legacyStep: string): StepProgress {
  const d = (details ?? {}) as Partial<StepProgress> & { taskHref?: string; baseVersionHref?: string | null };
  if (d.tasks && d.values) return { tasks: { ...d.tasks }, values: { ...d.values } };
  if (typeof d.taskHref === 'string') {
    return { tasks: { [legacyStep]: d.taskHref }, values: { baseVersionHref: d.baseVersionHref ?? null } };
  }
  return { tasks: {}, values: {} };
}

export interface StepSpec {
  kind: PulpTaskKind;
  /** The resource the task locks (a repository's prn or href): where a lost task is looked for. */
  resource?: string | null;
  /**
   * Also adopt a waiting/running task of this kind that this activity did not start (only for
   * syncs: a second sync of a repository would only queue behind the first and fetch the same).
   */
  adoptLive?: boolean;
}

/**
 * The one place where an activity starts, resumes, adopts, follows and cancels Pulp tasks:
 *  - resume: a step whose task href is in the heartbeat details follows that task;
 *  - adopt: otherwise a task of the same kind on the same resource created since the first
 *    attempt was scheduled (an earlier attempt that lost the answer to its POST, or died before
 *    its heartbeat reached the server) is followed instead of starting another;
 *  - cancel in Pulp only when the workflow asked for it (API cancel, max_runtime). A worker
 *    shutdown, a heartbeat timeout, a reset or a pause abort this attempt but leave the Pulp task
 *    running for the next attempt to follow.
 * A ticker heartbeats every HEARTBEAT_EVERY_MS while a step runs, so a slow Pulp call or a long
 * page-through never looks like a dead worker.
 */
export class PulpTaskSteps {
  readonly progress: StepProgress;
  private readonly ctx = Context.current();
  private readonly adoptedSteps = new Set<string>();

  private readonly heartbeatEveryMs: number;

  constructor(
    private readonly client: PulpClient,
    opts: { legacyStep?: string; heartbeatEveryMs?: number } = {},
  ) {
    this.progress = readStepProgress(this.ctx.info.heartbeatDetails, opts.legacyStep ?? '');
    this.heartbeatEveryMs = opts.heartbeatEveryMs ?? HEARTBEAT_EVERY_MS;
  }

  value<T>(key: string): T | undefined {
    return this.progress.values[key] as T | undefined;
  }

  remember(key: string, value: unknown): void {
    this.progress.values[key] = value;
    this.beat();
  }

  /** True when the step's task was resumed or adopted rather than started by this attempt. */
  adopted(step: string): boolean {
    return this.adoptedSteps.has(step);
  }

  beat(): void {
    this.ctx.heartbeat(this.progress);
  }

  /**
   * Runs `fn` with the heartbeat ticker going. Cancellation (any reason) rejects at once; what
   * `fn` was doing is a read or a wait, which is safe to abandon.
   */
  async withHeartbeat<T>(fn: () => Promise<T>): Promise<T> {
    return withHeartbeatTicker(fn, { details: () => this.progress, everyMs: this.heartbeatEveryMs });
  }

  /** Starts (or resumes, or adopts) the step's Pulp task and waits until it is final. */
  async run(step: string, spec: StepSpec, start: () => Promise<string>): Promise<PulpTask> {
    let href = this.progress.tasks[step];
    try {
      if (href) {
        this.adoptedSteps.add(step);
        log.info('resumed Pulp task', { step, taskHref: href, attempt: this.ctx.info.attempt });
      } else if (spec.resource) {
        const resource = spec.resource;
        href = await this.withHeartbeat(() =>
          findTaskToAdopt(this.client, spec.kind, resource, {
            since: new Date(this.ctx.info.scheduledTimestampMs),
            liveOnly: this.ctx.info.attempt === 1,
            anyLive: spec.adoptLive ?? false,
            exclude: Object.values(this.progress.tasks),
          }),
        );
        if (href) {
          this.adoptedSteps.add(step);
          log.info('adopted Pulp task', {
            step,
            kind: spec.kind,
            taskHref: href,
            attempt: this.ctx.info.attempt,
          });
        }
      }
      if (href && (await this.lostToVanishedWorker(href))) {
        // Resuming or adopting that task would only read its failure again on every attempt:
        // the work is started again, as a transient failure asks.
        log.info('Pulp task failed with its worker; starting the step again', { step, taskHref: href });
        this.adoptedSteps.delete(step);
        href = undefined;
      }
      href ??= await this.withHeartbeat(start);
    } catch (err) {
      throw toFailure(err);
    }
    this.progress.tasks[step] = href;
    return this.follow(href, step);
  }

  /** True when a task resumed or adopted had failed because its Pulp worker vanished. */
  private async lostToVanishedWorker(taskHref: string): Promise<boolean> {
    const task = await this.withHeartbeat(() => readPulpTask(this.client, taskHref));
    return task.state === 'failed' && isWorkerVanished(task.error as PulpTaskError | null);
  }

  /** Waits for a task this activity knows of; see the class comment for what cancel does. */
  async follow(taskHref: string, step = ''): Promise<PulpTask> {
    try {
      return await this.withHeartbeat(() => waitForPulpTask(this.client, taskHref));
    } catch (err) {
      if (this.ctx.cancellationDetails?.cancelRequested) {
        log.info('canceling Pulp task: the workflow asked', { step, taskHref });
        const beat = setInterval(() => this.beat(), this.heartbeatEveryMs);
        try {
          const final = await cancelPulpTask(this.client, taskHref);
          log.info('Pulp task canceled', { step, taskHref, state: final.state });
        } finally {
          clearInterval(beat);
        }
      } else if (this.ctx.cancellationSignal.aborted) {
        log.info('attempt aborted; Pulp task left running for the next attempt', {
          step,
          taskHref,
          reason: cancelReason(this.ctx),
        });
      }
      throw toFailure(err);
    }
  }
}

/** Pulp task failures are final for this attempt unless the worker vanished; 4xx never retry. */
export function toFailure(err: unknown): unknown {
  if (err instanceof PulpTaskFailedError) {
    if (err.workerVanished) return err;
    return ApplicationFailure.nonRetryable(err.message, 'PulpTaskFailedError', {
      taskHref: err.taskHref,
      state: err.state,
      description: err.pulpError?.description ?? null,
    });
  }
  if (err instanceof PulpApiError && !err.retryable) {
    return ApplicationFailure.nonRetryable(err.message, 'PulpApiError', { status: err.status, url: err.url });
  }
  return err;
}

function cancelReason(ctx: Context): string {
  const d = ctx.cancellationDetails;
  if (!d) return 'unknown';
  const reasons = (['workerShutdown', 'timedOut', 'notFound', 'reset', 'paused'] as const).filter(
    (k) => d[k],
  );
  return reasons.join(',') || 'unknown';
}
