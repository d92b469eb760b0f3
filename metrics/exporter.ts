import type { AddressInfo } from 'node:net';
import { type ServerType, serve } from '@hono/node-server';
import { Client, Connection } from '@temporalio/client';
import { Hono } from 'hono';
import type { AppConfig } from '../config/loadAppConfig.js';
import { closeDatabase, createDatabase, type Database } from '../db/client.js';
import { assertMigrated } from '../db/migrate.js';
import { temporalTlsOptions } from '../temporal/connect.js';
import { pingDatabase } from './fleetQueries.js';
import { type Exposition, ExpositionNotReadyError } from './readyExposition.js';
import { createMetricsRegistry, type MetricsOptions, type MetricsRegistry } from './registry.js';

/** The original exporter's port. */
export const DEFAULT_EXPORTER_PORT = 9300;
export const DEFAULT_EXPORTER_HOST = '0.0.0.0';

/**
 * Whether an Accept-Encoding header accepts gzip (RFC 9110: `gzip` or `*` with a q above 0;
 * an explicit `gzip;q=0` refuses it even beside `*`).
 */
export function acceptsGzip(header: string | undefined): boolean {
  if (!header) return false;
  let star = false;
  for (const part of header.split(',')) {
    const [coding = '', ...params] = part.split(';').map((p) => p.trim().toLowerCase());
    const q = params.find((p) => p.startsWith('q='));
    const accepted = q === undefined || Number(q.slice(2)) > 0;
    if (coding === 'gzip' || coding === 'x-gzip') return accepted;
    if (coding === '*') star = accepted;
  }
  return star;
}

/**
 * /metrics (the text kept ready by metrics.exposition: a scrape copies a buffer, gzip when the
 * scraper asks for it), /health (liveness: the process answers) and /ready (the database answers).
 */
export function createExporterApp(metrics: MetricsRegistry, db: Database, readyTimeoutMs = 3000): Hono {
  const app = new Hono();
  app.get('/metrics', async (c) => {
    let answer: Exposition;
    try {
      answer = await metrics.exposition.current();
    } catch (err) {
      if (!(err instanceof ExpositionNotReadyError)) throw err;
      // Only before the first good build; the next scrape tries again.
      return c.text(err.message, 503, { 'Retry-After': '5' });
    }
    const gzip = acceptsGzip(c.req.header('Accept-Encoding'));
    const headers: Record<string, string> = {
      'Content-Type': metrics.registry.contentType,
      Vary: 'Accept-Encoding',
    };
    if (gzip) headers['Content-Encoding'] = 'gzip';
    // Buffers are Uint8Arrays over an ArrayBuffer (never shared memory): served without a copy.
    return c.body((gzip ? answer.gzip : answer.text) as Uint8Array<ArrayBuffer>, 200, headers);
  });
  app.get('/health', (c) => c.json({ status: 'ok' }));
  app.get('/ready', async (c) => {
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        pingDatabase(db),
        new Promise((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`no answer within ${readyTimeoutMs} ms`)),
            readyTimeoutMs,
          );
        }),
      ]);
      return c.json({ status: 'ready' });
    } catch (err) {
      const detail = `database: ${err instanceof Error ? err.message : String(err)}`;
      return c.json({ status: 'not ready', detail }, 503);
    } finally {
      clearTimeout(timer);
    }
  });
  return app;
}

export interface RunExporterOptions extends MetricsOptions {
  host?: string;
  port?: number;
  /** Export the managed schedules' paused state (a lazy Temporal connection: a down Temporal never blocks start-up). */
  schedules?: boolean;
}

export interface RunningExporter {
  address: AddressInfo;
  metrics: MetricsRegistry;
  stop(): Promise<void>;
}

function listen(
  app: Hono,
  host: string,
  port: number,
): Promise<{ server: ServerType; address: AddressInfo }> {
  return new Promise((resolve, reject) => {
    const server = serve({ fetch: app.fetch, hostname: host, port }, (address) =>
      resolve({ server, address }),
    );
    server.once('error', reject);
  });
}

/** `pulp-manager exporter`: serves the metrics until stop(). The database must be migrated. */
export async function runExporter(
  config: AppConfig,
  options: RunExporterOptions = {},
): Promise<RunningExporter> {
  // A scrape runs a handful of queries at once; more connections would only sit idle.
  const db = createDatabase({ ...config.database, connectionLimit: 4 });
  let connection: Connection | undefined;
  let metrics: MetricsRegistry | undefined;
  try {
    await assertMigrated(db);
    let temporal: Client | undefined;
    if (options.schedules ?? true) {
      const t = config.ini.temporal;
      connection = Connection.lazy({ address: t.address, tls: await temporalTlsOptions(t) });
      temporal = new Client({ connection, namespace: t.namespace });
    }
    const e = config.ini.exporter;
    metrics = createMetricsRegistry(
      { db, config, temporal },
      {
        defaultMetrics: true,
        perRepoSeries: e.per_repo_series,
        refresh: {
          checkIntervalMs: e.refresh_check_interval_secs * 1000,
          minIntervalMs: e.refresh_min_interval_secs * 1000,
          maxAgeMs: e.refresh_max_age_secs * 1000,
        },
        ...options,
      },
    );
    // The first build starts now, so the first scrape usually finds the text ready.
    metrics.exposition.start();
    const running = metrics;
    const app = createExporterApp(metrics, db);
    const { server, address } = await listen(
      app,
      options.host ?? DEFAULT_EXPORTER_HOST,
      options.port ?? DEFAULT_EXPORTER_PORT,
    );
    return {
      address,
      metrics: running,
      async stop() {
        running.exposition.stop();
        await new Promise<void>((done, fail) => server.close((err) => (err ? fail(err) : done())));
        await running.exposition.settled();
        await connection?.close();
        await closeDatabase(db);
      },
    };
  } catch (err) {
    metrics?.exposition.stop();
    await metrics?.exposition.settled();
    await connection?.close();
    await closeDatabase(db);
    throw err;
  }
}
