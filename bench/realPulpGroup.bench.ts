import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { unwrap } from '../pulp/client.js';
import { listAll } from '../pulp/listAll.js';
import { deleteReposByPrefix, fixtureRepoSpecs, registerFixtureRepos } from '../test/support/fixtureRepos.js';
import { startPipelineHarness } from '../test/support/pipelineHarness.js';
import { stackPulpClient } from '../test/support/pulp.js';
import { stack } from '../test/support/stack.js';
import { type CpuUsage, stackServicePid, startCpuMeter } from './lib/cpuAccounting.js';
import { idealMakespan } from './lib/idealMakespan.js';
import { MissingMeasurementError, requireEntry, requireNumber, requireValue } from './lib/measured.js';
import { PREVIOUS_REAL_PULP, PREVIOUS_RUN_LABEL } from './lib/previousFigures.js';
import { type PulpApiRequests, startPulpApiLogWindow } from './lib/pulpApiLog.js';
import { type BenchResult, type BenchTarget, round, writeBenchResult } from './lib/results.js';

/**
 * The group sync against the real Pulp primary of the dev stack (pulpcore, pulp_rpm, pulp_deb
 * from PyPI) with the fixture upstreams: a first run (everything new: sync, banned-package
 * removal, publish) and a second one (nothing new upstream). Pulp's own task times come from
 * Pulp's task list; the ideal is what the lanes allow given Pulp's worker count. The CPU the
 * primary's API processes (gunicorn master and workers) spent during each run, and the requests
 * its access log shows, are recorded per repo beside the overhead.
 */

const COPIES = 3;
const LANES = 4;
const primary = stack.pulp.primary;
const client = stackPulpClient(primary);
const run = `b${randomBytes(3).toString('hex')}`;
const prefix = `ext-${run}`;

interface RunMeasure {
  label: string;
  makespanS: number;
  pulpTaskS: number;
  idealS: number;
  overheadPerRepoS: number;
  tasks: number;
  /** Σ(started_at − pulp_created): time Pulp's tasks waited for a Pulp worker. */
  queuedS: number;
  cpu: CpuUsage;
  api: PulpApiRequests;
  previous: { overheadPerRepoS: number; ratio: number };
  outcome: string;
}

const cpuMs = (m: RunMeasure, name: string, repos: number) =>
  Math.round((1000 * requireValue(`${m.label}: CPU seconds of ${name}`, m.cpu.byProcess[name])) / repos);

async function pulpTaskSecondsByRepo(since: Date, repos: Map<string, string>) {
  const tasks = await listAll((q) =>
    unwrap(
      client.GET('/pulp/api/v3/tasks/', {
        params: {
          query: {
            ...q,
            started_at__gte: since.toISOString(),
            fields: ['pulp_created', 'started_at', 'finished_at', 'reserved_resources_record'],
          } as never,
        },
      }),
    ),
  );
  const byRepo = new Map<string, number>();
  let count = 0;
  let queuedS = 0;
  for (const t of tasks) {
    const reserved = (t.reserved_resources_record ?? []) as string[];
    const repo = [...repos].find(([, prn]) => reserved.some((r) => r.includes(prn)))?.[0];
    if (!repo || !t.started_at || !t.finished_at) continue;
    count++;
    if (t.pulp_created)
      queuedS += (new Date(t.started_at).getTime() - new Date(t.pulp_created).getTime()) / 1000;
    const s = (new Date(t.finished_at).getTime() - new Date(t.started_at).getTime()) / 1000;
    byRepo.set(repo, (byRepo.get(repo) ?? 0) + s);
  }
  return { byRepo, count, queuedS };
}

const started = new Date();
const specs = Array.from({ length: COPIES }, (_, i) => fixtureRepoSpecs(`${run}${i}`)).flat();
const h = await startPipelineHarness();
const measures: RunMeasure[] = [];
let workers: number | undefined;
try {
  await registerFixtureRepos(client, specs);
  const status = await unwrap(client.GET('/pulp/api/v3/status/'));
  // Pulp runs one task per worker: the ideal schedule needs the real count, never a guess.
  workers = requireNumber('online Pulp workers (GET /pulp/api/v3/status/)', status.online_workers?.length);
  if (workers < 1) throw new MissingMeasurementError('online Pulp workers', 'the status lists none');
  const repoPrns = new Map<string, string>();
  for (const r of await listAll((q) =>
    unwrap(
      client.GET('/pulp/api/v3/repositories/', { params: { query: { ...q, name__startswith: prefix } } }),
    ),
  )) {
    // The uuid identifies the repository in both hrefs and PRNs of reserved resources.
    const uuid = requireValue(`pulp_href of repository ${r.name}`, r.pulp_href).split('/').at(-2);
    repoPrns.set(r.name, requireValue(`uuid in the pulp_href of repository ${r.name}`, uuid || undefined));
  }

  for (const [label, previous] of [
    ['first sync (all new)', PREVIOUS_REAL_PULP.first],
    ['second sync (nothing new)', PREVIOUS_REAL_PULP.second],
  ] as const) {
    console.log(`[bench] real Pulp group: ${label}, ${specs.length} repos × ${LANES} lanes …`);
    const apiLog = await startPulpApiLogWindow('primary');
    // The API is a gunicorn master with its workers as children: metered as a tree. The Pulp
    // worker forks a process per task, PostgreSQL one per connection (shared with the secondary).
    const cpuMeter = startCpuMeter({
      pulpApi: { tree: stackServicePid('pulp-primary-api') },
      pulpWorker: { tree: stackServicePid('pulp-primary-worker') },
      postgres: { tree: stackServicePid('pulp-postgres') },
      temporal: stackServicePid('temporal'),
      worker: 'self',
    });
    const t0 = new Date();
    const handle = await h.client.workflow.start('repoGroupSyncWorkflow', {
      taskQueue: h.taskQueue,
      workflowId: `repo-group-sync/${primary.name}/bench-${run}-${measures.length}`,
      args: [
        {
          server: primary.name,
          regexInclude: `^${prefix}`,
          maxConcurrentSyncs: LANES,
          maxRuntimeSeconds: 3600,
          debPublishMode: 'resign',
        },
      ],
    });
    const progress = (await handle.result()) as Record<string, number>;
    const makespanMs = Date.now() - t0.getTime();
    const cpu = cpuMeter.stop();
    const api = await apiLog.stop();
    const { byRepo, count, queuedS } = await pulpTaskSecondsByRepo(t0, repoPrns);
    const names = [...repoPrns.keys()].sort();
    // Every repo of the group ran Pulp tasks in both runs (at least its sync): a repo without
    // any is a measurement that went wrong, not zero work.
    const work = names.map((n) => requireEntry(`${label}: Pulp task seconds`, byRepo, n));
    const pulpTaskS = work.reduce((a, b) => a + b, 0);
    // Pulp runs at most one task per worker: the lanes cannot go faster than its workers.
    const idealS = idealMakespan(work, Math.min(LANES, workers));
    const m: RunMeasure = {
      label,
      makespanS: makespanMs / 1000,
      pulpTaskS,
      idealS,
      overheadPerRepoS: ((makespanMs / 1000 - idealS) * Math.min(LANES, workers)) / names.length,
      tasks: count,
      queuedS,
      cpu,
      api,
      previous,
      outcome: `${progress.completed} completed, ${progress.failed} failed`,
    };
    measures.push(m);
    const n = names.length;
    console.log(
      `[bench]   makespan ${round(m.makespanS)} s, Pulp task time ${round(pulpTaskS)} s in ${count} tasks (queued ${round(m.queuedS)} s), ` +
        `ideal ${round(idealS)} s, overhead/repo ${round(m.overheadPerRepoS, 2)} s (previous ${previous.overheadPerRepoS} s), ` +
        `CPU ms/repo: Pulp API ${cpuMs(m, 'pulpApi', n)}, Pulp worker ${cpuMs(m, 'pulpWorker', n)}, ` +
        `PostgreSQL ${cpuMs(m, 'postgres', n)}, Temporal ${cpuMs(m, 'temporal', n)}, worker ${cpuMs(m, 'worker', n)}; ` +
        `Pulp API requests ${api.requests} (basic auth ${api.basicAuth}, logins ${api.logins}), ${m.outcome}`,
    );
  }
} finally {
  await deleteReposByPrefix(client, primary.url, prefix);
  await h.close();
}

const repos = specs.length;
// The stack's Temporal server is shared and restarted by dev/temporal.sh: say what it ran with.
const temporalPid = stackServicePid('temporal');
const temporalArgs = readFileSync(`/proc/${temporalPid}/cmdline`, 'utf8').split('\0');
const temporalFlags = temporalArgs
  .flatMap((arg, i) =>
    arg === '--sqlite-pragma' || arg === '--dynamic-config-value' ? [`${arg} ${temporalArgs[i + 1]}`] : [],
  )
  .join(' ');
const targets: BenchTarget[] = measures.map((m) => {
  const met = m.overheadPerRepoS <= 0.5;
  const busy = Math.round((100 * m.cpu.busyS) / m.cpu.capacityS);
  return {
    name: `overhead per repo, ${m.label}, ${repos} repos × ${LANES} lanes`,
    target: '≤ 0.5 s',
    measured: `${round(m.overheadPerRepoS, 2)} s (Pulp API CPU ${cpuMs(m, 'pulpApi', repos)} ms / repo)`,
    previous: `${m.previous.overheadPerRepoS.toFixed(2)} s (Pulp API CPU not measured)`,
    met,
    gapCause: met
      ? undefined
      : `makespan ${round(m.makespanS)} s against ${round(m.idealS)} s of Pulp task time on ${Math.min(LANES, workers)} ` +
        `Pulp worker(s), and Pulp's tasks waited ${round(m.queuedS)} s in its queue. CPU ms per repo: Pulp API ` +
        `${cpuMs(m, 'pulpApi', repos)} (${round(m.api.requests / repos)} requests / repo, ${m.api.basicAuth} with ` +
        `basic auth in all), Pulp worker ${cpuMs(m, 'pulpWorker', repos)}, PostgreSQL ${cpuMs(m, 'postgres', repos)}, ` +
        `Temporal ${cpuMs(m, 'temporal', repos)}, worker ${cpuMs(m, 'worker', repos)}; cores ${busy} % busy.`,
  };
});

const result: BenchResult = {
  id: 'real-pulp-group',
  title: 'Group sync on the real Pulp primary',
  method:
    `The dev stack's real Pulp primary (pulpcore 3.123.1, pulp_rpm 3.39.4, pulp_deb 3.11.1; ${workers} Pulp worker(s)) ` +
    `with ${specs.length} repositories: ${COPIES} copies of the 4 fixture upstreams (rpm, structured deb, flat deb, file), ` +
    `max_concurrent_syncs ${LANES}, the production worker on the real Temporal and MariaDB. Pulp task time is ` +
    'Σ(finished_at − started_at) of the Pulp tasks reserving those repositories; the ideal is the lanes schedule ' +
    'of that work capped at the Pulp worker count (Pulp runs one task per worker at a time). Pulp queue wait is ' +
    "Σ(started_at − pulp_created): time tasks waited for a Pulp worker, which is Pulp's, not orchestration. " +
    "**CPU ms / repo** from /proc over each run (bench/lib/cpuAccounting.ts): the Pulp API = the primary's " +
    'pulpcore-api gunicorn master and its workers (with any they reaped), the Pulp worker with the processes it ' +
    "forks per task, PostgreSQL (all its backends; shared with the idle secondary), the stack's Temporal dev " +
    "server, the worker (the benchmark process). **Pulp API requests** come from the API's access log over the " +
    'run (every client of the primary, not only this worker); basic auth = requests that carried a password ' +
    `(logins included). **Previous** = the ${PREVIOUS_RUN_LABEL} (before issue 12: three activities per repo, ` +
    'basic auth on every Pulp call).',
  table: {
    columns: [
      'run',
      'repos',
      'makespan',
      'Pulp task time',
      'Pulp tasks',
      'Pulp queue wait',
      'ideal',
      'ratio',
      'overhead / repo',
      `previous (${PREVIOUS_RUN_LABEL}): ratio / overhead / repo`,
      'CPU ms / repo: Pulp API / Pulp worker / PostgreSQL / Temporal / worker',
      'Pulp API requests / repo (basic auth, logins in all)',
      'cores busy + stolen',
      'outcome',
    ],
    rows: measures.map((m) => [
      m.label,
      specs.length,
      `${round(m.makespanS)} s`,
      `${round(m.pulpTaskS)} s`,
      m.tasks,
      `${round(m.queuedS)} s`,
      `${round(m.idealS)} s`,
      round(m.makespanS / m.idealS, 2).toFixed(2),
      `${round(m.overheadPerRepoS, 2)} s`,
      `${m.previous.ratio.toFixed(2)} / ${m.previous.overheadPerRepoS.toFixed(2)} s`,
      ['pulpApi', 'pulpWorker', 'postgres', 'temporal', 'worker'].map((p) => cpuMs(m, p, repos)).join(' / '),
      `${round(m.api.requests / repos)} (${m.api.basicAuth}, ${m.api.logins})`,
      `${Math.round((100 * m.cpu.busyS) / m.cpu.capacityS)} + ${Math.round((100 * m.cpu.stealS) / m.cpu.capacityS)} %`,
      m.outcome,
    ]),
  },
  targets,
  notes: [
    'Fixture repositories are tiny, so Pulp tasks take well under a second or two: the overhead per repo is the ' +
      'meaningful number here, not the ratio.',
    `The stack's Temporal dev server (pid ${temporalPid}) ran with ${temporalFlags ? `\`${temporalFlags}\`` : 'no SQLite pragma or dynamic config flags'}.`,
  ],
  startedAt: started.toISOString(),
  durationSeconds: round((Date.now() - started.getTime()) / 1000),
};
await writeBenchResult(result);
process.exit(0);
