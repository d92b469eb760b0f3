// Scrape time of the Prometheus exporter at 50,000 server repos (10,000 on each of 5 servers),
// at a week of 100,000 tasks and a year of 1,000,000 (the databases bench/apiLatency.bench.ts
// seeded, bench/lib/seededFleetDatabase.ts). The exporter's HTTP app (createExporterApp with
// createMetricsRegistry, as `pulp-manager exporter` serves it: pool of 4, process metrics, text
// kept ready and rebuilt in the background) is scraped over HTTP on loopback, one scrape at a
// time, with Accept-Encoding: gzip as Prometheus sends it and with identity; then while a group
// sync's writes (bench/lib/groupSyncWriter.ts) keep changing tasks and repo health, so that the
// text is rebuilt between scrapes. Usage: npx tsx bench/exporterScrape.bench.ts [100k|1m]
import { execFile } from 'node:child_process';
import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { serve } from '@hono/node-server';
import { Client, Connection } from '@temporalio/client';
import { closeDatabase, createDatabase } from '../db/client.js';
import { createExporterApp } from '../metrics/exporter.js';
import { createMetricsRegistry } from '../metrics/registry.js';
import { exporterConfig, samples } from '../test/metrics/support.js';
import { stack } from '../test/support/stack.js';
import { type CpuUsage, cpuShareText, stackServicePid, startCpuMeter } from './lib/cpuAccounting.js';
import { startGroupSyncWriter } from './lib/groupSyncWriter.js';
import { MissingMeasurementError, requireNumber } from './lib/measured.js';
import { PREVIOUS_EXPORTER } from './lib/previousFigures.js';
import { type BenchTarget, percentile, round, writeBenchResult } from './lib/results.js';
import { seededFleetDatabase } from './lib/seededFleetDatabase.js';
import { type FleetSize, LARGE_FLEET, type SeededFleet, YEAR_FLEET } from './lib/seedLargeFleet.js';

const run = promisify(execFile);
const SCRAPES = 20;
/** During the group sync: one scrape every SYNC_SCRAPE_GAP_MS, so that scrapes meet rebuilds. */
const SYNC_SCRAPES = 40;
const SYNC_SCRAPE_GAP_MS = 500;
const REBUILDS_TIMED = 3;
const MEDIAN_TARGET_MS = 300;
const P95_TARGET_MS = 500;
/** What Prometheus 2.x/3.x sends. */
const PROMETHEUS_ACCEPT =
  'application/openmetrics-text;version=1.0.0;q=0.5,application/openmetrics-text;version=0.0.1;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2';

type Encoding = 'gzip' | 'identity';

interface Scrape {
  ms: number;
  bytes: number;
  body: Buffer;
  encoding: string | undefined;
}

/** One scrape to the last byte, the body as sent (not decompressed: that is the scraper's work). */
function scrapeOnce(url: string, encoding: Encoding): Promise<Scrape> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const req = request(
      url,
      { headers: { Accept: PROMETHEUS_ACCEPT, 'Accept-Encoding': encoding } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const ms = performance.now() - t0;
          const body = Buffer.concat(chunks);
          if (res.statusCode !== 200) {
            reject(
              new Error(
                `GET /metrics (${encoding}) answered ${res.statusCode}: ${body.toString().slice(0, 300)}`,
              ),
            );
            return;
          }
          resolve({ ms, bytes: body.length, body, encoding: res.headers['content-encoding'] });
        });
      },
    );
    req.on('error', reject);
    req.end();
  });
}

const textOf = (s: Scrape) => (s.encoding === 'gzip' ? gunzipSync(s.body) : s.body).toString('utf8');

/** What a scrape must show of the seeded fleet, so that a failed collection cannot pass as fast. */
function checkScrape(
  text: string,
  fleet: SeededFleet,
  expectRunning: number | undefined,
): string | undefined {
  const serverRepos = fleet.size.servers * fleet.size.reposPerServer;
  const health = samples(text, 'pulp_manager_pulp_server_repo_sync_health').size;
  if (health !== serverRepos) return `${health} repo health series, expected ${serverRepos}`;
  const running = [...samples(text, 'pulp_manager_pulp_server_tasks_in_running_state').values()].reduce(
    (a, b) => a + b,
    0,
  );
  if (expectRunning !== undefined && running !== expectRunning) {
    return `${running} running tasks, expected ${expectRunning}`;
  }
  if (samples(text, 'pulp_manager_exporter_database_up').get('') !== 1) return 'database_up is not 1';
  if (samples(text, 'pulp_manager_exporter_temporal_up').get('') !== 1) return 'temporal_up is not 1';
  return undefined;
}

const seriesIn = (text: string) => text.split('\n').filter((l) => l !== '' && !l.startsWith('#')).length;

interface Stats {
  median: number;
  p95: number;
  max: number;
}
function stats(figure: string, xs: number[]): Stats {
  if (xs.length === 0) throw new MissingMeasurementError(figure, 'no sample');
  return {
    median: round(requireNumber(`${figure} median`, percentile(xs, 50)), 0),
    p95: round(requireNumber(`${figure} p95`, percentile(xs, 95)), 0),
    max: round(requireNumber(`${figure} max`, Math.max(...xs)), 0),
  };
}

interface SizeResult {
  size: FleetSize;
  idle: Record<Encoding, Stats>;
  kib: Record<Encoding, number>;
  duringSync: Stats;
  duringSyncRebuilds: number;
  duringSyncRepoSyncs: number;
  rebuild: Stats;
  series: number;
  cpu: CpuUsage;
  baseRssMib: number;
  peakRssMib: number;
}

/** Seeds the database in a child process when it is not there yet (bench/lib/seedFleetProcess.ts). */
async function seedInChild(size: FleetSize): Promise<void> {
  const arg = size === YEAR_FLEET ? '1m' : '100k';
  const { stdout } = await run(
    'npx',
    ['tsx', fileURLToPath(new URL('./lib/seedFleetProcess.ts', import.meta.url)), arg],
    {
      maxBuffer: 1 << 20,
    },
  );
  process.stdout.write(stdout);
}

async function benchSize(size: FleetSize): Promise<SizeResult> {
  const tag = `[exporter-scrape ${size.tasks.toLocaleString('en')}]`;
  // The planner's memory must not count as the exporter's: the seeding happens elsewhere, and
  // this process only reads the fleet summary (then the database is found complete).
  await seedInChild(size);
  const seeded = await seededFleetDatabase(size);
  if (!seeded.reused)
    throw new Error(`${tag} the database seeded by seedFleetProcess was not found complete`);
  const { fleet } = seeded;
  console.log(
    `${tag} seeded database: ` +
      `${fleet.size.servers} servers x ${fleet.size.reposPerServer} repos, ${fleet.size.tasks} tasks`,
  );
  // The pool size `pulp-manager exporter` uses (metrics/exporter.ts).
  const db = createDatabase({ ...seeded.settings, connectionLimit: 4 });
  const connection = await Connection.connect({ address: stack.temporal.address });
  global.gc?.();
  const baseRss = process.memoryUsage().rss;
  let peakRss = baseRss;
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
  }, 100);
  const metrics = createMetricsRegistry(
    {
      db,
      config: exporterConfig(seeded.settings, stack.temporal.address),
      temporal: new Client({ connection, namespace: stack.temporal.namespace }),
      // The seeded servers do not exist: their status APIs answer at once.
      pulpStatus: async (server) => ({
        server,
        reachable: true,
        databaseConnected: true,
        redisConnected: true,
      }),
    },
    { defaultMetrics: true },
  );
  const app = createExporterApp(metrics, db);
  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const s = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, () => resolve(s));
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`;
  try {
    // The first scrape waits for the first build; Prometheus scrapes forever after.
    const warm = { gzip: await scrapeOnce(url, 'gzip'), identity: await scrapeOnce(url, 'identity') };
    if (warm.gzip.encoding !== 'gzip') {
      throw new Error(`Accept-Encoding: gzip answered Content-Encoding ${String(warm.gzip.encoding)}`);
    }
    if (warm.identity.encoding !== undefined) {
      throw new Error(`Accept-Encoding: identity answered Content-Encoding ${warm.identity.encoding}`);
    }
    const text = textOf(warm.identity);
    const problem = checkScrape(text, fleet, fleet.tasksByState.running);
    if (problem !== undefined) throw new Error(`the scrape does not show the seeded fleet: ${problem}`);
    if (seriesIn(textOf(warm.gzip)) !== seriesIn(text))
      throw new Error('the gzip and identity answers differ');

    const cpuMeter = startCpuMeter({ mariadb: stackServicePid('mariadb'), exporter: 'self' });
    const idleTimes: Record<Encoding, number[]> = { gzip: [], identity: [] };
    for (const encoding of ['gzip', 'identity'] as const) {
      for (let i = 0; i < SCRAPES; i++) idleTimes[encoding].push((await scrapeOnce(url, encoding)).ms);
    }

    // What a rebuild costs (collection and text, in the background of the scrapes).
    const rebuildTimes: number[] = [];
    for (let i = 0; i < REBUILDS_TIMED; i++) {
      const t0 = performance.now();
      await metrics.render();
      rebuildTimes.push(performance.now() - t0);
    }

    // A group sync's writes under the scrapes: each rebuild (at most every 5 s) runs on the
    // exporter's event loop while scrapes arrive.
    const writer = await startGroupSyncWriter(seeded.settings, fleet);
    const syncTimes: number[] = [];
    const builds = new Set<number>();
    let writerStats: Awaited<ReturnType<typeof writer.stop>>;
    try {
      await setTimeout(1000);
      for (let i = 0; i < SYNC_SCRAPES; i++) {
        const s = await scrapeOnce(url, 'gzip');
        syncTimes.push(s.ms);
        builds.add((await metrics.exposition.current()).builtAt);
        await setTimeout(SYNC_SCRAPE_GAP_MS);
      }
    } finally {
      writerStats = await writer.stop();
    }
    // Rebuilds seen by the scrapes: the first build is the one before the sync began.
    const rebuilds = builds.size - 1;
    if (rebuilds < 2) {
      throw new MissingMeasurementError(
        `${tag} scrapes during the group sync`,
        `only ${rebuilds} rebuild(s) happened under ${writerStats.repoSyncs} repo syncs: the scrapes did not meet rebuilds`,
      );
    }
    const cpu = cpuMeter.stop();
    const lastDuring = textOf(await scrapeOnce(url, 'identity'));
    const duringProblem = checkScrape(lastDuring, fleet, undefined);
    if (duringProblem !== undefined) throw new Error(`a scrape during the group sync: ${duringProblem}`);

    const result: SizeResult = {
      size,
      idle: {
        gzip: stats(`${tag} gzip scrape`, idleTimes.gzip),
        identity: stats(`${tag} identity scrape`, idleTimes.identity),
      },
      kib: { gzip: round(warm.gzip.bytes / 1024, 0), identity: round(warm.identity.bytes / 1024, 0) },
      duringSync: stats(`${tag} scrape during the group sync`, syncTimes),
      duringSyncRebuilds: rebuilds,
      duringSyncRepoSyncs: writerStats.repoSyncs,
      rebuild: stats(`${tag} rebuild`, rebuildTimes),
      series: seriesIn(text),
      cpu,
      baseRssMib: round(baseRss / 2 ** 20, 0),
      peakRssMib: round(peakRss / 2 ** 20, 0),
    };
    console.log(
      `${tag} gzip median ${result.idle.gzip.median} ms p95 ${result.idle.gzip.p95} ms (${result.kib.gzip} KiB); ` +
        `identity median ${result.idle.identity.median} ms p95 ${result.idle.identity.p95} ms (${result.kib.identity} KiB); ` +
        `during a group sync (${rebuilds} rebuilds, ${writerStats.repoSyncs} repo syncs) median ${result.duringSync.median} ms ` +
        `p95 ${result.duringSync.p95} ms max ${result.duringSync.max} ms; rebuild median ${result.rebuild.median} ms; ` +
        `RSS ${result.baseRssMib} -> peak ${result.peakRssMib} MiB; ${result.series} series`,
    );
    return result;
  } finally {
    clearInterval(sampler);
    metrics.exposition.stop();
    await metrics.exposition.settled();
    await new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
    await connection.close();
    await closeDatabase(db);
    await seeded.release();
  }
}

function targetsOf(r: SizeResult): BenchTarget[] {
  const tasks = r.size.tasks.toLocaleString('en');
  const first = r.size.tasks === LARGE_FLEET.tasks;
  const under = (what: string, ms: number, limit: number, previous?: number): BenchTarget => ({
    name: `${what}, ${tasks} tasks`,
    target: `< ${limit} ms`,
    measured: `${ms} ms`,
    ...(first &&
      previous !== undefined && { previous: `${previous} ms (identity, before the text was kept ready)` }),
    met: ms < limit,
    ...(ms >= limit && {
      gapCause:
        `${what} ${ms} ms for ${r.series} series (${r.kib.gzip} KiB gzip, ${r.kib.identity} KiB identity); ` +
        `a rebuild (collection and text) takes ${r.rebuild.median} ms on the same event loop.`,
    }),
  });
  return [
    under('scrape time, median, gzip (as Prometheus asks)', r.idle.gzip.median, MEDIAN_TARGET_MS),
    under('scrape time, p95, gzip (as Prometheus asks)', r.idle.gzip.p95, P95_TARGET_MS),
    under(
      'scrape time, median, identity',
      r.idle.identity.median,
      MEDIAN_TARGET_MS,
      PREVIOUS_EXPORTER.medianMs,
    ),
    under('scrape time, p95, identity', r.idle.identity.p95, P95_TARGET_MS, PREVIOUS_EXPORTER.p95Ms),
    under('scrape time during a group sync, max, gzip', r.duringSync.max, P95_TARGET_MS),
  ];
}

async function main(): Promise<void> {
  const startedAt = new Date();
  const t0 = performance.now();
  const only = process.argv[2];
  const sizes = [LARGE_FLEET, YEAR_FLEET].filter(
    (s) => only === undefined || (only === '1m' ? s === YEAR_FLEET : s === LARGE_FLEET),
  );
  const results: SizeResult[] = [];
  for (const size of sizes) results.push(await benchSize(size));
  const targets = results.flatMap(targetsOf);
  const n = (x: number) => x.toLocaleString('en');
  const file = await writeBenchResult({
    id: 'exporter-scrape',
    title: 'Exporter scrape time',
    method:
      `5 servers × 10,000 repos (50,000 server repos) with ${results.map((r) => n(r.size.tasks)).join(' and ')} tasks, ` +
      'the databases the API benchmark seeded (bench/lib/seedLargeFleet.ts). The exporter app ' +
      '(`createExporterApp` + `createMetricsRegistry`: pool of 4, process metrics, schedules read from the real ' +
      'Temporal, the text kept ready with the default refresh settings) in the benchmark process, scraped over ' +
      `HTTP on loopback one scrape at a time: 1 warm-up per encoding (checked against the seeded fleet), then ` +
      `${SCRAPES} timed with \`Accept-Encoding: gzip\` and ${SCRAPES} with identity (time to the last byte, body not ` +
      `decompressed). Then ${SYNC_SCRAPES} gzip scrapes ${SYNC_SCRAPE_GAP_MS} ms apart while a group sync's database ` +
      'writes run (bench/lib/groupSyncWriter.ts: 10 lanes on the first server, each repo sync queued, started, ' +
      'finished with its stages and server repo link, the repo health updated; removed afterwards), so the ' +
      'change probe rebuilds the text between scrapes; the run fails unless the scrapes met at least 2 rebuilds. ' +
      '**Not a real repoGroupSync**: no Temporal worker or Pulp simulator shares the cores. Pulp status probes ' +
      'answer at once (the seeded servers do not exist). RSS is that of the benchmark process, which is the ' +
      'exporter plus the scraper and the writer (sampled every 100 ms); "before" is after the database ' +
      'connection and before the exporter was created.',
    table: {
      columns: ['tasks', 'measure', 'median ms', 'p95 ms', 'max ms', 'KiB per answer'],
      rows: results.flatMap((r) => [
        [
          n(r.size.tasks),
          `scrape, gzip (${SCRAPES})`,
          r.idle.gzip.median,
          r.idle.gzip.p95,
          r.idle.gzip.max,
          r.kib.gzip,
        ],
        [
          n(r.size.tasks),
          `scrape, identity (${SCRAPES})`,
          r.idle.identity.median,
          r.idle.identity.p95,
          r.idle.identity.max,
          r.kib.identity,
        ],
        [
          n(r.size.tasks),
          `scrape during a group sync, gzip (${SYNC_SCRAPES}; ${r.duringSyncRebuilds} rebuilds, ${r.duringSyncRepoSyncs} repo syncs)`,
          r.duringSync.median,
          r.duringSync.p95,
          r.duringSync.max,
          r.kib.gzip,
        ],
        [
          n(r.size.tasks),
          `rebuild: collection + text (${REBUILDS_TIMED}, background)`,
          r.rebuild.median,
          r.rebuild.p95,
          r.rebuild.max,
          r.kib.identity,
        ],
      ]),
    },
    targets: [
      ...targets,
      ...results.map((r) => ({
        name: `exporter process RSS, ${n(r.size.tasks)} tasks (recorded, no target)`,
        target: 'recorded',
        measured: `${r.peakRssMib} MiB peak (${r.baseRssMib} MiB before the exporter)`,
        met: true,
      })),
    ],
    notes: [
      ...results.map(
        (r) =>
          `${n(r.size.tasks)} tasks: ${n(r.series)} series; the benchmark process's RSS ${r.baseRssMib} MiB before the exporter, ` +
          `${r.peakRssMib} MiB at its peak during the scrapes and rebuilds; the machine meanwhile: ${cpuShareText(r.cpu)} ` +
          '(exporter = the benchmark process: exporter, scraper and writer).',
      ),
      `Previous (${'2 Dec 2026 morning run'}): ${PREVIOUS_EXPORTER.medianMs} ms median, ${PREVIOUS_EXPORTER.p95Ms} ms p95 for ` +
        `${n(PREVIOUS_EXPORTER.series)} series (${n(PREVIOUS_EXPORTER.kib)} KiB, identity), 100,000 tasks: every scrape collected and formatted.`,
    ],
    startedAt: startedAt.toISOString(),
    durationSeconds: round((performance.now() - t0) / 1000),
  });
  for (const t of targets)
    console.log(`[exporter-scrape] ${t.met ? 'met' : 'NOT MET'}: ${t.name} ${t.target}: ${t.measured}`);
  console.log(`[exporter-scrape] wrote ${file}`);
}

await main();
