import { Client } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { createActivities } from '../activities/index.js';
import { PulpServerClients } from '../activities/pulp/serverClients.js';
import type { AppConfig } from '../config/loadAppConfig.js';
import type { Database } from '../db/client.js';
import { temporalConnectionOptions } from './connect.js';
import { explainConnectFailure } from './connectionError.js';
import { workflowsEntry } from './workflowsPath.js';

export interface WorkerOptions {
  config: AppConfig;
  db: Database;
  /** Overrides [temporal] for tests (own namespace and task queue). */
  namespace?: string;
  taskQueue?: string;
  /** Another workflow bundle entry (tests of a workflow change deployed mid-run). */
  workflowsPath?: string;
}

export async function connectWorkerConnection(config: AppConfig): Promise<NativeConnection> {
  const t = config.ini.temporal;
  const options = await temporalConnectionOptions(t);
  try {
    return await NativeConnection.connect(options);
  } catch (err) {
    throw await explainConnectFailure(t, err);
  }
}

/** A worker running every workflow and activity of Pulp Manager on the configured task queue. */
export async function createPulpManagerWorker(
  opts: WorkerOptions,
  connection: NativeConnection,
): Promise<Worker> {
  const { config, db } = opts;
  const namespace = opts.namespace ?? config.ini.temporal.namespace;
  // Activities that ask Temporal about executions (the stale-task sweeper) share the worker's
  // connection and namespace: no second connection to configure or close.
  const temporal = new Client({ connection, namespace });
  return Worker.create({
    connection,
    namespace,
    taskQueue: opts.taskQueue ?? config.ini.temporal.task_queue,
    workflowsPath: opts.workflowsPath ?? workflowsEntry(),
    activities: createActivities({ config, db, pulpClients: new PulpServerClients(db, config), temporal }),
    // Sticky cache bounds worker memory; a group sync and its children are a few hundred at most.
    maxCachedWorkflows: 500,
    maxConcurrentActivityTaskExecutions: 100,
    shutdownGraceTime: '30 seconds',
    // Cancellation reaches an activity with a heartbeat: keep it prompt (default is up to 80% of
    // the heartbeat timeout), so a canceled sync stops its Pulp task within seconds.
    maxHeartbeatThrottleInterval: '3 seconds',
    defaultHeartbeatThrottleInterval: '3 seconds',
  });
}
