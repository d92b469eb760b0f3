/**
 * The figures before issue 12 (one activity per repo sync, one Pulp login session per server),
 * copied from BENCHMARKS.md as committed before it: the `make bench` run of 2 December 2026,
 * morning (group sync 05:22 UTC, real Pulp 06:13 UTC). Then a repo's child ran three activities
 * and ten local activities (33 history events) and every Pulp call carried HTTP basic auth; the
 * group-sync cases ran on the stack's shared Temporal dev server (default SQLite settings, its
 * file grown by earlier runs). The reports print them beside the new numbers.
 */
export const PREVIOUS_RUN_LABEL = '2 Dec 2026 morning run';

export interface PreviousGroupSyncCase {
  repos: number;
  lanes: number;
  syncMedianMs: number;
  ratio: number;
  overheadPerRepoS: number;
  /** CPU ms per repo of the Temporal dev server and of the worker (the benchmark process). */
  cpuTemporalMs: number;
  cpuWorkerMs: number;
  childHistoryEvents: number;
}

export const PREVIOUS_GROUP_SYNC: readonly PreviousGroupSyncCase[] = [
  {
    repos: 100,
    lanes: 10,
    syncMedianMs: 2000,
    ratio: 1.532,
    overheadPerRepoS: 1.462,
    cpuTemporalMs: 211,
    cpuWorkerMs: 230,
    childHistoryEvents: 33,
  },
  {
    repos: 100,
    lanes: 50,
    syncMedianMs: 4000,
    ratio: 1.679,
    overheadPerRepoS: 6.21,
    cpuTemporalMs: 181,
    cpuWorkerMs: 207,
    childHistoryEvents: 33,
  },
  {
    repos: 1000,
    lanes: 10,
    syncMedianMs: 1000,
    ratio: 2.356,
    overheadPerRepoS: 1.909,
    cpuTemporalMs: 205,
    cpuWorkerMs: 177,
    childHistoryEvents: 33,
  },
  {
    repos: 1000,
    lanes: 50,
    syncMedianMs: 8000,
    ratio: 1.481,
    overheadPerRepoS: 5.672,
    cpuTemporalMs: 195,
    cpuWorkerMs: 215,
    childHistoryEvents: 33,
  },
  {
    repos: 5000,
    lanes: 10,
    syncMedianMs: 300,
    ratio: 5.337,
    overheadPerRepoS: 1.969,
    cpuTemporalMs: 169,
    cpuWorkerMs: 139,
    childHistoryEvents: 33,
  },
  {
    repos: 5000,
    lanes: 50,
    syncMedianMs: 2000,
    ratio: 3.917,
    overheadPerRepoS: 8.159,
    cpuTemporalMs: 148,
    cpuWorkerMs: 138,
    childHistoryEvents: 33,
  },
];

/** The previous figures of a case, when that run had the same case (repos, lanes, sync time). */
export function previousGroupSyncCase(c: {
  repos: number;
  lanes: number;
  syncMedianMs: number;
}): PreviousGroupSyncCase | undefined {
  return PREVIOUS_GROUP_SYNC.find(
    (p) => p.repos === c.repos && p.lanes === c.lanes && p.syncMedianMs === c.syncMedianMs,
  );
}

/** Real Pulp primary, 12 fixture repos × 4 lanes (the Pulp API's CPU was not measured then). */
export const PREVIOUS_REAL_PULP: Readonly<
  Record<'first' | 'second', { overheadPerRepoS: number; ratio: number }>
> = {
  first: { overheadPerRepoS: 2.08, ratio: 2.6 },
  second: { overheadPerRepoS: 1.8, ratio: 3.7 },
};

/**
 * API latency at 100,000 tasks in the 2 Dec 2026 morning run (before issue 15): p99 ms at 20
 * connections per query, and the two target rows as BENCHMARKS.md printed them.
 */
export const PREVIOUS_API_P99: {
  eachQuery: string;
  mixed: string;
  byQuery: Readonly<Record<string, number>>;
} = {
  eachQuery: '3/18 under 100 ms; worst 638 ms',
  mixed: '296 ms',
  byQuery: {
    servers: 36,
    'server repos': 103,
    'server repos: red, by name': 162,
    'server repos: health older than a day, oldest first': 137,
    'server repos: name regex, 100 a page': 209,
    'server repos: last page': 124,
    'server repo groups': 73,
    'repo tasks: busiest repo, newest first': 176,
    tasks: 237,
    'tasks: newest first': 262,
    'tasks: failed, newest first': 122,
    'tasks: running': 103,
    'tasks: group syncs of a server, newest first': 157,
    'tasks: queued in the last day, newest first': 124,
    'tasks: children of a group sync': 100,
    'tasks: deep page': 472,
    'tasks: completed, 500 a page, newest first': 638,
    'task with its stages': 34,
    'mixed: every query in turn': 296,
  },
};

/** Exporter scrape at 5 × 10,000 repos and 100,000 tasks, same run (identity encoding, in-process). */
export const PREVIOUS_EXPORTER = { medianMs: 963, p95Ms: 1169, series: 100_145, kib: 13_935 } as const;
