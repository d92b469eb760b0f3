import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import type { NativeConnection, Worker } from '@temporalio/worker';
import { type AppConfig, loadAppConfig } from '../../config/loadAppConfig.js';
import { parsePulpConfig } from '../../config/loadPulpConfig.js';
import { applyFleetConfig } from '../../db/applyFleetConfig.js';
import { closeDatabase, createDatabase, type Database, type DatabaseSettings } from '../../db/client.js';
import { migrateDatabase } from '../../db/migrate.js';
import { connectWorkerConnection, createPulpManagerWorker } from '../../temporal/worker.js';
import { createThrowawayDatabase, type ThrowawayDatabase } from '../db/throwawayDatabase.js';
import { stack } from './stack.js';

const devConfig = (name: string) => fileURLToPath(new URL(`../../dev/config/${name}`, import.meta.url));

/**
 * The real pipeline for one test file: the dev stack's config.ini and pulp_config.yml applied
 * to a throwaway database, a real worker on its own task queue in the test namespace of the
 * Temporal dev server, and a client to start workflows with.
 */
export interface PipelineHarness {
  config: AppConfig;
  db: Database;
  client: Client;
  taskQueue: string;
  worker: Worker;
  /**
   * Stops the worker gracefully and runs a fresh one, as a deploy does; `workflowsPath` deploys
   * another workflow bundle (a changed workflow).
   */
  restartWorker(opts?: { workflowsPath?: string }): Promise<void>;
  close(): Promise<void>;
}

export interface HarnessOptions {
  /** Last changes to the loaded config (e.g. a banned-package regex). */
  configure?: (c: AppConfig) => void;
  /** A fleet (pulp_config.yml text) instead of the dev stack's, e.g. one naming a simulator. */
  pulpConfigYaml?: string;
  /** Another Temporal server (a private one a fault test stops); namespace defaults to `default`. */
  temporal?: { address: string; namespace?: string };
  /** An existing empty database (e.g. on a private MariaDB); migrated here, never dropped. */
  database?: DatabaseSettings;
  /** Other config files than dev/config's (e.g. copies of the original's). */
  configPaths?: { ini: string; pulpConfig: string };
}

export async function startPipelineHarness(
  options: HarnessOptions | ((c: AppConfig) => void) = {},
): Promise<PipelineHarness> {
  const opts: HarnessOptions = typeof options === 'function' ? { configure: options } : options;
  const throwaway: ThrowawayDatabase | undefined = opts.database
    ? undefined
    : await createThrowawayDatabase();
  const dbSettings = opts.database ?? (throwaway as ThrowawayDatabase).settings;
  await migrateDatabase(dbSettings);
  const config = await loadAppConfig({
    PULP_MANAGER_CONFIG_PATH: opts.configPaths?.ini ?? devConfig('config.ini'),
    PULP_SYNC_CONFIG_PATH: opts.configPaths?.pulpConfig ?? devConfig('pulp_config.yml'),
    PULP_MANAGER_LOCAL_AUTH: 'true',
    DB_HOSTNAME: dbSettings.host,
    DB_PORT: String(dbSettings.port),
    DB_USER: dbSettings.user,
    DB_NAME: dbSettings.database,
    DB_PASSWORD: dbSettings.password,
  });
  if (opts.temporal) config.ini.temporal.address = opts.temporal.address;
  opts.configure?.(config);
  const db = createDatabase(config.database);
  const fleetYaml = opts.pulpConfigYaml ?? (await readFile(config.pulpConfigPath, 'utf8'));
  await applyFleetConfig(
    db,
    parsePulpConfig(fleetYaml, opts.pulpConfigYaml ? '<harness fleet>' : config.pulpConfigPath),
  );
  const taskQueue = `pm-test-${randomBytes(4).toString('hex')}`;
  const namespace = opts.temporal ? (opts.temporal.namespace ?? 'default') : stack.temporal.testNamespace;
  // Anything started with this config (the API, a schedule) reaches this harness's worker.
  config.ini.temporal.task_queue = taskQueue;
  config.ini.temporal.namespace = namespace;
  let nativeConnection: NativeConnection = await connectWorkerConnection(config);
  const newWorker = (workflowsPath?: string) =>
    createPulpManagerWorker({ config, db, namespace, taskQueue, workflowsPath }, nativeConnection);
  let worker = await newWorker();
  let running = worker.run();
  const connection = await Connection.connect({ address: config.ini.temporal.address });
  const client = new Client({ connection, namespace });
  const harness: PipelineHarness = {
    config,
    db,
    client,
    taskQueue,
    get worker() {
      return worker;
    },
    async restartWorker(restart = {}) {
      worker.shutdown();
      await running;
      await nativeConnection.close();
      nativeConnection = await connectWorkerConnection(config);
      worker = await newWorker(restart.workflowsPath);
      running = worker.run();
    },
    async close() {
      worker.shutdown();
      await running.catch(() => undefined);
      await nativeConnection.close();
      await connection.close();
      await closeDatabase(db);
      await throwaway?.drop();
    },
  };
  return harness;
}
