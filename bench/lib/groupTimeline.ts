import type { Client } from '@temporalio/client';
import { tsToMs } from '@temporalio/common/lib/time.js';
import type { temporal } from '@temporalio/proto';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

/**
 * Where a group's lane time went between its children, read from the group's own histories (one
 * per run): lane-seconds per repo spent before the first child, idle around each continue-as-new
 * (lanes whose child ended after the run stopped starting, waiting for the next run's first
 * child), idle in the final tail (the ideal schedule has that too), and the parent's turn-around
 * from a child's end to the next start within a run.
 */
export interface GroupTimeline {
  runs: number;
  /** Seconds from the group's start to its first child start. */
  startupS: number;
  /** Per continue-as-new: seconds from the run's last child end to the next run's first child start. */
  handoverS: number[];
  /** Lane-seconds per repo idle around continue-as-new (drain + turn-around). */
  drainLaneSPerRepo: number;
  /** Lane-seconds per repo idle after the final run stopped starting (shared with the ideal). */
  tailLaneSPerRepo: number;
  /** Seconds from the last child end to the group's close (health, task record). */
  closeS: number;
  /** Mean seconds from a child's end event in the parent to the start command that refilled its lane. */
  refillMeanS: number;
  /** Mean seconds from a child's start command to its started event in the parent. */
  childStartMeanS: number;
  /** Mean seconds from a child's close (visibility) to its end event in the parent's history. */
  closeToParentMeanS: number;
  /** Workflow tasks of the group that failed (e.g. a continue-as-new refused for new events: a replay). */
  workflowTaskFailures: number;
}

const at = (e: HistoryEvent) => tsToMs(e.eventTime);
const isChildEnd = (e: HistoryEvent) =>
  Boolean(
    e.childWorkflowExecutionCompletedEventAttributes ??
      e.childWorkflowExecutionFailedEventAttributes ??
      e.childWorkflowExecutionCanceledEventAttributes ??
      e.childWorkflowExecutionTimedOutEventAttributes ??
      e.childWorkflowExecutionTerminatedEventAttributes,
  );
const childEndId = (e: HistoryEvent) =>
  (
    e.childWorkflowExecutionCompletedEventAttributes ??
    e.childWorkflowExecutionFailedEventAttributes ??
    e.childWorkflowExecutionCanceledEventAttributes ??
    e.childWorkflowExecutionTimedOutEventAttributes ??
    e.childWorkflowExecutionTerminatedEventAttributes
  )?.workflowExecution?.workflowId ?? '';

/**
 * Reads the group's run chain from its first run. `childClose` maps child workflow id to its close
 * time (ms); `t0` is when the bench started the group. Children handed over from one run to the
 * next (not ended in the run that started them) count as running through the boundary.
 */
export async function groupTimeline(
  client: Client,
  workflowId: string,
  firstRunId: string,
  lanes: number,
  repos: number,
  t0: number,
  childClose: Map<string, number>,
): Promise<GroupTimeline> {
  const runs: {
    starts: number[];
    ends: { t: number; id: string }[];
    startedAt: Map<number, number>;
    close: number;
  }[] = [];
  let runId: string | undefined = firstRunId;
  const childStartLatencies: number[] = [];
  let workflowTaskFailures = 0;
  while (runId) {
    const history: temporal.api.history.v1.IHistory = await client.workflow
      .getHandle(workflowId, runId)
      .fetchHistory();
    const events: HistoryEvent[] = history.events ?? [];
    const starts: number[] = [];
    const ends: { t: number; id: string }[] = [];
    const initiated = new Map<number, number>();
    for (const e of events) {
      if (e.workflowTaskFailedEventAttributes) workflowTaskFailures++;
      if (e.startChildWorkflowExecutionInitiatedEventAttributes) {
        starts.push(at(e));
        initiated.set(Number(e.eventId), at(e));
      } else if (e.childWorkflowExecutionStartedEventAttributes) {
        const init = initiated.get(Number(e.childWorkflowExecutionStartedEventAttributes.initiatedEventId));
        if (init !== undefined) childStartLatencies.push(at(e) - init);
      } else if (isChildEnd(e)) {
        ends.push({ t: at(e), id: childEndId(e) });
      }
    }
    const last: HistoryEvent | undefined = events[events.length - 1];
    runs.push({ starts, ends, startedAt: initiated, close: last ? at(last) : 0 });
    runId = last?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ?? undefined;
  }
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
  const firstStart = runs.find((r) => r.starts.length > 0)?.starts[0] ?? t0;
  let drainLaneMs = 0;
  const handover: number[] = [];
  let tailLaneMs = 0;
  const refills: number[] = [];
  const closeToParent: number[] = [];
  const allEnds = runs.flatMap((r) => r.ends);
  for (const end of allEnds) {
    const closed = childClose.get(end.id);
    if (closed !== undefined) closeToParent.push(end.t - closed);
  }
  runs.forEach((run, k) => {
    const lastStart = run.starts[run.starts.length - 1] ?? 0;
    // Ends seen by this run, in order; the first `lanes` starts fill the lanes, each later start
    // refills the lane of the end before it (lanes are FIFO). Ends of children handed over
    // from the run before count too.
    const ends = [...run.ends].sort((a, b) => a.t - b.t);
    const initialFill =
      k === 0 ? lanes : Math.max(0, lanes - (run.starts.length > 0 ? countRunning(runs, k) : 0));
    run.starts.slice(initialFill).forEach((s, j) => {
      const end = ends[j];
      if (end && end.t <= s) refills.push(s - end.t);
    });
    const idleEnds = ends.filter((e) => e.t >= lastStart);
    const next = runs[k + 1];
    if (next) {
      const nextFirst = next.starts[0] ?? next.close;
      for (const e of idleEnds) drainLaneMs += Math.max(0, nextFirst - e.t);
      const lastEnd = ends[ends.length - 1]?.t ?? run.close;
      handover.push((nextFirst - lastEnd) / 1000);
    } else {
      const lastEnd = ends[ends.length - 1]?.t ?? run.close;
      for (const e of idleEnds) tailLaneMs += lastEnd - e.t;
    }
  });
  const final = runs[runs.length - 1];
  const lastEnd = Math.max(0, ...allEnds.map((e) => e.t));
  return {
    runs: runs.length,
    startupS: (firstStart - t0) / 1000,
    handoverS: handover,
    drainLaneSPerRepo: drainLaneMs / repos / 1000,
    tailLaneSPerRepo: tailLaneMs / repos / 1000,
    closeS: final ? (final.close - lastEnd) / 1000 : 0,
    refillMeanS: mean(refills) / 1000,
    childStartMeanS: mean(childStartLatencies) / 1000,
    closeToParentMeanS: mean(closeToParent) / 1000,
    workflowTaskFailures,
  };
}

/** Children still running when run `k` began: started before it and not ended before it. */
function countRunning(runs: { starts: number[]; ends: { t: number }[] }[], k: number): number {
  const before = runs.slice(0, k);
  const started = before.reduce((n, r) => n + r.starts.length, 0);
  const ended = before.reduce((n, r) => n + r.ends.length, 0);
  return Math.max(0, started - ended);
}
