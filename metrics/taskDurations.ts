import type { Histogram } from 'prom-client';
import type { Database } from '../db/client.js';
import type { TaskType } from '../db/enums.js';
import { type FinishedTaskRow, readTasksFinishedSince } from './fleetQueries.js';

/** Which finished tasks feed which histogram. */
export interface DurationSeries {
  histogram: Histogram<'pulp_server_name' | 'state'>;
  taskType: TaskType;
  /** true: only child tasks (one repo of a snapshot run); false: only top-level; undefined: any. */
  child?: boolean;
}

/**
 * Feeds duration histograms from the tasks table, each finished task observed exactly once
 * per exporter process, however often (or seldom) Prometheus scrapes:
 *
 * - Each refresh reads the tasks finished since `lastRefresh - lookback`, and observes those
 *   whose id it has not seen. The lookback re-reads a window already read, so a task whose row
 *   commits late (its date_finished is the worker's clock at finish, the commit comes after)
 *   or whose worker clock runs behind is still seen, as long as the lag is under `lookbackMs`.
 * - Ids are remembered only while their finish date is inside the window, so memory is bounded
 *   by the tasks of one window, and the window start only moves forward, so a forgotten id can
 *   never be read again.
 * - A gap between scrapes loses nothing: the window starts at the previous refresh.
 * - Tasks finished before the exporter started are not observed: histograms are counters, and
 *   a restarted exporter starts from zero like any other (rate() handles the reset); replaying
 *   history into them would show as a burst of syncs that did not happen then.
 */
export class TaskDurationTracker {
  private windowStart: number;
  private lastRefresh: number;
  private readonly seen = new Map<number, number>();

  constructor(
    private readonly series: readonly DurationSeries[],
    private readonly lookbackMs: number,
    startedAt: Date,
  ) {
    this.windowStart = startedAt.getTime();
    this.lastRefresh = startedAt.getTime();
  }

  /** Observes newly finished tasks; returns how many it observed. */
  async refresh(db: Database, now: Date = new Date()): Promise<number> {
    const start = Math.max(this.windowStart, this.lastRefresh - this.lookbackMs);
    const taskTypes = [...new Set(this.series.map((s) => s.taskType))];
    const rows = await readTasksFinishedSince(db, taskTypes, new Date(start));
    let observed = 0;
    for (const row of rows) {
      if (this.seen.has(row.id)) continue;
      this.seen.set(row.id, row.dateFinished.getTime());
      for (const s of this.series) if (matches(s, row)) this.observe(s, row);
      observed++;
    }
    this.windowStart = start;
    this.lastRefresh = Math.max(this.lastRefresh, now.getTime());
    for (const [id, finished] of this.seen) if (finished < start) this.seen.delete(id);
    return observed;
  }

  /** Ids remembered to avoid double counts (for tests and the bound on memory). */
  get remembered(): number {
    return this.seen.size;
  }

  private observe(s: DurationSeries, row: FinishedTaskRow): void {
    const seconds = Math.max(0, (row.dateFinished.getTime() - row.dateStarted.getTime()) / 1000);
    s.histogram.observe({ pulp_server_name: row.server, state: row.state }, seconds);
  }
}

function matches(s: DurationSeries, row: FinishedTaskRow): boolean {
  return s.taskType === row.taskType && (s.child === undefined || s.child === row.hasParent);
}
