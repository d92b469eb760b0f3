import type { AddressInfo } from 'node:net';
import { type ServerType, serve } from '@hono/node-server';
import { Client, Connection } from '@temporalio/client';
import { Hono } from 'hono';
import type { AppConfig } from '../config/loadAppConfig.js';
import { closeDatabase, createDatabase, type Database } from '../db/client.js';
import { assertMigrated } from '../db/migrate.js';
import { temporalTlsOptions } from '../temporal/connect.js';
import { pingDatabase } from './fleetQueries.js';
import { createMetricsRegistry, type MetricsOptions, type MetricsRegistry } from './registry.js';

/** The original exporter's port. */
export const DEFAULT_EXPORTER_PORT = 9300;
export const DEFAULT_EXPORTER_HOST = '0.0.0.0';

/** /metrics, /health (liveness: the process answers) and /ready (the database answers). */
export function createExporterApp(metrics: MetricsRegistry, db: Database, readyTimeoutMs = 3000): Hono {
  const app = new Hono();
  app.get('/metrics', async (c) => {
    const body = await metrics.registry.metrics();
    return c.body(body, 200, { 'Content-Type': metrics.registry.contentType });
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
  try {
    await assertMigrated(db);
    let temporal: Client | undefined;
    if (options.schedules ?? true) {
      const t = config.ini.temporal;
      connection = Connection.lazy({ address: t.address, tls: await temporalTlsOptions(t) });
      temporal = new Client({ connection, namespace: t.namespace });
    }
    const metrics = createMetricsRegistry({ db, config, temporal }, { defaultMetrics: true, ...options });
    const app = createExporterApp(metrics, db);
    const { server, address } = await listen(
      app,
      options.host ?? DEFAULT_EXPORTER_HOST,
      options.port ?? DEFAULT_EXPORTER_PORT,
    );
    return {
      address,
      metrics,
      async stop() {
        await new Promise<void>((done, fail) => server.close((err) => (err ? fail(err) : done())));
        await connection?.close();
        await closeDatabase(db);
      },
    };
  } catch (err) {
    await connection?.close();
    await closeDatabase(db);
    throw err;
  }
}
