import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { crc32, gunzipSync, inflateRawSync } from 'node:zlib';
import { type ServerType, serve } from '@hono/node-server';
import { eq } from 'drizzle-orm';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { AppConfig } from '../../config/loadAppConfig.js';
import { pulp_server_repos } from '../../db/schema.js';
import { acceptsGzip, createExporterApp } from '../../metrics/exporter.js';
import type { PulpStatusProbe } from '../../metrics/pulpStatus.js';
import { ExpositionNotReadyError, ReadyExposition } from '../../metrics/readyExposition.js';
import { createMetricsRegistry, type MetricsOptions, type MetricsRegistry } from '../../metrics/registry.js';
import { useMigratedDatabase } from '../db/throwawayDatabase.js';
import { eventually } from '../support/eventually.js';
import { insertServer, insertServerRepos, insertTasks } from '../support/seedFleet.js';
import { stack } from '../support/stack.js';
import { exporterConfig, promtoolCheckMetrics, samples } from './support.js';

// The answer kept ready (metrics/readyExposition.ts) against a real MariaDB: a scrape is a copy
// of the last build, rebuilt when the change probe sees new data, gzip when asked, and a
// failed rebuild never replaces a good answer.

const scratch = useMigratedDatabase();
let config: AppConfig;
let serverId: number;
const SERVER = 'pulp-ready.example.com';
const REPOS = 50;

/**
 * Status probe stub that can be told to fail (a probe that throws fails the whole build). One
 * server: each build asks it once, so its calls count the builds.
 */
let probeFails = false;
let builds = 0;
const pulpStatus: PulpStatusProbe = async (server) => {
  builds++;
  if (probeFails) throw new Error('injected probe failure');
  return { server, reachable: true, databaseConnected: true, redisConnected: true };
};

const opened: MetricsRegistry[] = [];
function registry(options: MetricsOptions = {}): MetricsRegistry {
  const m = createMetricsRegistry({ db: scratch.db, config, pulpStatus, onError: () => undefined }, options);
  opened.push(m);
  return m;
}

/** The fleet part of an answer: everything before the refresh status families. */
const fleetPart = (text: string) =>
  text.slice(0, text.indexOf('# HELP pulp_manager_exporter_refresh_failures_total'));

/** A raw GET (no automatic decompression), so the bytes on the wire are what is compared. */
function get(port: number, headers: Record<string, string> = {}) {
  return new Promise<{
    status: number;
    headers: Record<string, string | string[] | undefined>;
    body: Buffer;
  }>((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path: '/metrics', headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

async function listen(metrics: MetricsRegistry): Promise<{ port: number; close(): Promise<void> }> {
  const app = createExporterApp(metrics, scratch.db);
  const server = await new Promise<ServerType>((resolve) => {
    const s = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, () => resolve(s));
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

beforeAll(async () => {
  config = exporterConfig(scratch.settings, stack.temporal.address);
  serverId = await insertServer(scratch.db, SERVER, 'green', 60);
  await insertServerRepos(
    scratch.db,
    serverId,
    Array.from({ length: REPOS }, (_, i) => ({
      name: `ext-ready-${i}`,
      health: 'green' as const,
      healthAgeSeconds: 600,
      hasRemote: true,
    })),
  );
});

afterEach(async () => {
  probeFails = false;
  for (const m of opened.splice(0)) {
    m.exposition.stop();
    await m.exposition.settled();
  }
});

describe('the answer kept ready', () => {
  it('two concurrent scrapers get the same bytes, from one build', async () => {
    const metrics = registry({
      refresh: { checkIntervalMs: 60_000, minIntervalMs: 60_000, maxAgeMs: 60_000 },
    });
    builds = 0;
    const server = await listen(metrics);
    try {
      // Both arrive before the first build: they wait for the same one (single flight).
      const [a, b] = await Promise.all([get(server.port), get(server.port)]);
      expect(a.status).toBe(200);
      expect(b.body.equals(a.body)).toBe(true);
      const [c, d] = await Promise.all([get(server.port), get(server.port)]);
      expect(c.body.equals(a.body)).toBe(true);
      expect(d.body.equals(a.body)).toBe(true);
      expect(samples(a.body.toString(), 'pulp_manager_pulp_server_repo_sync_health').size).toBe(REPOS);
      expect(builds).toBe(1);
    } finally {
      await server.close();
    }
  });

  it('a change in the database shows up after the next refresh, and no change rebuilds nothing', async () => {
    const metrics = registry({ refresh: { checkIntervalMs: 100, minIntervalMs: 200, maxAgeMs: 600_000 } });
    builds = 0;
    const first = await metrics.exposition.current();
    const repo = `{pulp_server_name="${SERVER}",repo_name="ext-ready-7",repo_sync_health="green",has_remote="1"}`;
    expect(samples(first.text.toString(), 'pulp_manager_pulp_server_repo_sync_health').get(repo)).toBe(1);
    // Several probes, nothing changed: the same answer, not rebuilt.
    await new Promise((r) => setTimeout(r, 800));
    expect(builds).toBe(1);
    expect((await metrics.exposition.current()).builtAt).toBe(first.builtAt);

    const [repoRow] = await scratch.db
      .select({ id: pulp_server_repos.id })
      .from(pulp_server_repos)
      .where(eq(pulp_server_repos.pulp_server_id, serverId))
      .limit(8)
      .offset(7);
    await scratch.db
      .update(pulp_server_repos)
      .set({ repo_sync_health: 'red', repo_sync_health_date: new Date() })
      .where(eq(pulp_server_repos.id, repoRow?.id as number));
    const changed = `{pulp_server_name="${SERVER}",repo_name="ext-ready-7",repo_sync_health="red",has_remote="1"}`;
    await eventually(
      async () => {
        const text = (await metrics.exposition.current()).text.toString();
        expect(samples(text, 'pulp_manager_pulp_server_repo_sync_health').get(changed)).toBe(1);
      },
      10_000,
      100,
    );
    // A task starting is a change too (the live task gauges).
    const before = builds;
    await insertTasks(scratch.db, [{ serverId, type: 'repo_sync', state: 'running', queuedAgo: 5 }]);
    await eventually(
      async () => {
        const text = (await metrics.exposition.current()).text.toString();
        expect(
          samples(text, 'pulp_manager_pulp_server_tasks_in_running_state').get(
            `{pulp_server_name="${SERVER}"}`,
          ),
        ).toBe(1);
      },
      10_000,
      100,
    );
    expect(builds).toBeGreaterThan(before);
    await scratch.db
      .update(pulp_server_repos)
      .set({ repo_sync_health: 'green' })
      .where(eq(pulp_server_repos.id, repoRow?.id as number));
  });

  it('rebuilds at the maximum age without any change (Pulp status, schedules, ages)', async () => {
    const metrics = registry({ refresh: { checkIntervalMs: 100, minIntervalMs: 100, maxAgeMs: 500 } });
    const first = await metrics.exposition.current();
    await eventually(
      async () => {
        expect((await metrics.exposition.current()).builtAt).toBeGreaterThan(first.builtAt);
      },
      10_000,
      100,
    );
  });

  it('answers gzip when asked, decompressing to the same text, with Content-Encoding and Vary', async () => {
    const metrics = registry({ defaultMetrics: true });
    const server = await listen(metrics);
    try {
      const plain = await get(server.port);
      const zipped = await get(server.port, { 'Accept-Encoding': 'gzip, deflate' });
      expect(plain.headers['content-encoding']).toBeUndefined();
      expect(plain.headers.vary).toBe('Accept-Encoding');
      expect(zipped.headers['content-encoding']).toBe('gzip');
      expect(zipped.headers.vary).toBe('Accept-Encoding');
      expect(zipped.headers['content-type']).toBe(plain.headers['content-type']);
      expect(zipped.body.length).toBeLessThan(plain.body.length / 4);
      expect(gunzipSync(zipped.body).toString()).toBe(plain.body.toString());
      // One gzip member (curl --compressed reads only the first): its deflate data alone is the
      // whole text, and its trailer checks the whole text.
      const deflated = zipped.body.subarray(10, zipped.body.length - 8);
      expect(inflateRawSync(deflated).equals(plain.body)).toBe(true);
      expect(zipped.body.readUInt32LE(zipped.body.length - 8)).toBe(crc32(plain.body));
      expect(zipped.body.readUInt32LE(zipped.body.length - 4)).toBe(plain.body.length);
      const refused = await get(server.port, { 'Accept-Encoding': 'gzip;q=0, identity' });
      expect(refused.headers['content-encoding']).toBeUndefined();
      expect(refused.body.equals(plain.body)).toBe(true);
      // The whole answer (fleet, refresh status, process metrics) is valid exposition text.
      const check = await promtoolCheckMetrics(plain.body.toString());
      expect(check.stdout + check.stderr).toBe('');
      expect(check.code).toBe(0);
    } finally {
      await server.close();
    }
  });

  it('per_repo_series=false drops the two per-repo families and nothing else', async () => {
    const seriesKeys = (text: string) =>
      text
        .split('\n')
        .filter((l) => l !== '' && !l.startsWith('#'))
        .map((l) => l.slice(0, l.lastIndexOf(' ')));
    const on = seriesKeys(await registry().render());
    const off = seriesKeys(await registry({ perRepoSeries: false }).render());
    const perRepo = (k: string) =>
      k.startsWith('pulp_manager_pulp_server_repo_sync_health{') ||
      k.startsWith('pulp_manager_pulp_server_repo_sync_health_last_run_seconds{');
    expect(on.filter(perRepo)).toHaveLength(2 * REPOS);
    expect(off.filter(perRepo)).toEqual([]);
    expect(off).toEqual(on.filter((k) => !perRepo(k)));
    // Their HELP/TYPE lines go too; the per-server rollups stay.
    const offText = await registry({ perRepoSeries: false }).render();
    expect(offText).not.toContain('# TYPE pulp_manager_pulp_server_repo_sync_health gauge');
    expect(offText).toContain(
      `pulp_manager_pulp_server_repo_sync_health_rollup{pulp_server_name="${SERVER}"`,
    );
  });

  it('a failing refresh keeps serving the last good text and raises the failure metric, never a 500', async () => {
    const metrics = registry({
      refresh: { checkIntervalMs: 60_000, minIntervalMs: 60_000, maxAgeMs: 60_000 },
    });
    const server = await listen(metrics);
    try {
      const good = (await get(server.port)).body.toString();
      expect(samples(good, 'pulp_manager_exporter_refresh_failures_total').get('')).toBe(0);
      probeFails = true;
      await new Promise((r) => setTimeout(r, 1100));
      await metrics.exposition.refresh();
      await metrics.exposition.refresh();
      const served = await get(server.port);
      expect(served.status).toBe(200);
      const text = served.body.toString();
      expect(fleetPart(text)).toBe(fleetPart(good));
      expect(samples(text, 'pulp_manager_exporter_refresh_failures_total').get('')).toBe(2);
      expect(samples(text, 'pulp_manager_exporter_refresh_age_seconds').get('')).toBeGreaterThanOrEqual(1);
      expect(samples(text, 'pulp_manager_exporter_last_refresh_success_timestamp_seconds').get('')).toBe(
        samples(good, 'pulp_manager_exporter_last_refresh_success_timestamp_seconds').get(''),
      );
      // Once the cause is gone, the next refresh serves a new build; the counter keeps its count.
      probeFails = false;
      await metrics.exposition.refresh();
      const recovered = (await get(server.port)).body.toString();
      expect(samples(recovered, 'pulp_manager_exporter_refresh_failures_total').get('')).toBe(2);
      expect(samples(recovered, 'pulp_manager_exporter_refresh_age_seconds').get('')).toBeLessThan(1);
    } finally {
      await server.close();
    }
  });

  it('before any good build a scrape answers 503 with the reason, and the next scrape tries again', async () => {
    probeFails = true;
    const metrics = registry({
      refresh: { checkIntervalMs: 60_000, minIntervalMs: 60_000, maxAgeMs: 60_000 },
    });
    const server = await listen(metrics);
    try {
      const refused = await get(server.port);
      expect(refused.status).toBe(503);
      expect(refused.headers['retry-after']).toBe('5');
      expect(refused.body.toString()).toMatch(/no metrics built yet: injected probe failure/);
      probeFails = false;
      expect((await get(server.port)).status).toBe(200);
    } finally {
      await server.close();
    }
  });
});

describe('ReadyExposition without a database', () => {
  it('waits for the first build once for all callers, and reports a build that never succeeded', async () => {
    let builds = 0;
    const ready = new ReadyExposition(
      {
        build: async () => {
          builds++;
          await new Promise((r) => setTimeout(r, 50));
          return 'x 1\n';
        },
        changeMarker: async () => 'm',
        onError: () => undefined,
      },
      { checkIntervalMs: 60_000, minIntervalMs: 60_000, maxAgeMs: 60_000 },
    );
    const answers = await Promise.all([ready.current(), ready.current(), ready.current()]);
    ready.stop();
    expect(builds).toBe(1);
    expect(answers[1]).toBe(answers[0]);
    expect(answers[0]?.text.toString()).toMatch(
      /^x 1\n\n# HELP pulp_manager_exporter_refresh_failures_total/,
    );

    const broken = new ReadyExposition(
      {
        build: async () => {
          throw new Error('no database');
        },
        changeMarker: async () => 'm',
        onError: () => undefined,
      },
      { checkIntervalMs: 60_000, minIntervalMs: 60_000, maxAgeMs: 60_000 },
    );
    await expect(broken.current()).rejects.toThrow(ExpositionNotReadyError);
    await expect(broken.current()).rejects.toThrow(/no metrics built yet: no database/);
    broken.stop();
  });

  it('rebuilds when the marker changes, and reports a failing change probe once per outage', async () => {
    let builds = 0;
    let marker: string | Error = 'm1';
    const errors: string[] = [];
    const ready = new ReadyExposition(
      {
        build: async () => `x ${++builds}\n`,
        changeMarker: async () => {
          if (marker instanceof Error) throw marker;
          return marker;
        },
        onError: (part) => errors.push(part),
      },
      { checkIntervalMs: 20, minIntervalMs: 20, maxAgeMs: 600_000 },
    );
    try {
      await ready.current();
      await new Promise((r) => setTimeout(r, 200));
      expect(builds).toBe(1);
      marker = new Error('database gone');
      await new Promise((r) => setTimeout(r, 200));
      expect(errors).toEqual(['change probe']);
      expect(builds).toBe(1);
      marker = 'm2';
      await eventually(
        async () => expect((await ready.current()).text.toString()).toMatch(/^x 2\n/),
        5000,
        20,
      );
      marker = new Error('database gone again');
      await eventually(async () => expect(errors).toEqual(['change probe', 'change probe']), 5000, 20);
    } finally {
      ready.stop();
      await ready.settled();
    }
  });

  it('reads Accept-Encoding as RFC 9110 says', () => {
    expect(acceptsGzip(undefined)).toBe(false);
    expect(acceptsGzip('gzip')).toBe(true);
    expect(acceptsGzip('deflate, GZIP;q=0.5')).toBe(true);
    expect(acceptsGzip('gzip;q=0')).toBe(false);
    expect(acceptsGzip('*')).toBe(true);
    expect(acceptsGzip('gzip;q=0, *')).toBe(false);
    expect(acceptsGzip('identity')).toBe(false);
  });
});
