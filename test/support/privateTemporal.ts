import { access, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Connection } from '@temporalio/client';
import { SEARCH_ATTRIBUTE_TYPES } from '../../temporal/searchAttributes.js';
import {
  freePort,
  portAccepts,
  type ServiceProcess,
  startServiceProcess,
  waitUntilReady,
} from './serviceProcess.js';
import { stack } from './stack.js';

/**
 * A Temporal dev server of one test's own, for faults that stop Temporal: the shared stack's
 * server is used by other tests and agents and must never be stopped. History is kept in a
 * SQLite file in a temp dir, so `stop()` + `start()` is an operator restarting the server.
 */
export interface PrivateTemporal {
  /** host:port of the frontend; the same across restarts. */
  readonly address: string;
  readonly namespace: string;
  readonly dbFile: string;
  /** pid of the running server process (a new one after `start()`); undefined while stopped. */
  readonly pid: number | undefined;
  isRunning(): boolean;
  /** SIGTERM and wait for the exit (a clean shutdown). */
  stop(): Promise<void>;
  /** SIGKILL: a crash. */
  kill(): Promise<void>;
  /** Starts the server again on the same SQLite file and ports; resolves once it is usable. */
  start(): Promise<void>;
  /** Stops it if running and deletes its temp dir. */
  dispose(): Promise<void>;
}

const host = '127.0.0.1';
const namespace = 'default';
// The project's workflows set these; they must exist before a worker runs.
const searchAttributes = SEARCH_ATTRIBUTE_TYPES;
// Two cores shared with other agents: a cold start-dev can take tens of seconds.
const READY_TIMEOUT_MS = 60_000;

/** True once the frontend answers and the namespace has the project's search attributes. */
async function serverReady(address: string): Promise<boolean> {
  const connection = await Connection.connect({ address, connectTimeout: 2000 });
  try {
    const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace });
    return Object.keys(searchAttributes).every((name) => customAttributes?.[name] !== undefined);
  } finally {
    await connection.close();
  }
}

/**
 * `extraArgs` go to `temporal server start-dev` after the project's own flags, e.g. the SQLite
 * pragmas and dynamic config a benchmark runs the server with.
 */
export async function startPrivateTemporal(extraArgs: readonly string[] = []): Promise<PrivateTemporal> {
  await access(stack.temporal.bin).catch((err: unknown) => {
    throw new Error(
      `Temporal CLI not found at ${stack.temporal.bin} (${err instanceof Error ? err.message : String(err)}); ` +
        'run `make stack-up` to install it',
    );
  });
  const dir = await mkdtemp(join(tmpdir(), 'pm-temporal-'));
  const dbFile = join(dir, 'temporal.db');
  const [port, httpPort, metricsPort] = [await freePort(), await freePort(), await freePort()];
  const address = `${host}:${port}`;
  const args = [
    'server',
    'start-dev',
    '--headless',
    '--ip',
    host,
    '--port',
    String(port),
    '--http-port',
    String(httpPort),
    '--metrics-port',
    String(metricsPort),
    '--db-filename',
    dbFile,
    '--namespace',
    namespace,
    ...Object.entries(searchAttributes).flatMap(([name, type]) => ['--search-attribute', `${name}=${type}`]),
    '--log-level',
    'warn',
    ...extraArgs,
  ];
  let proc: ServiceProcess | undefined;

  const start = async () => {
    if (proc?.isRunning()) throw new Error(`private Temporal at ${address} is already running`);
    // A restart must get the same port back: the worker under test reconnects to this address.
    if (await portAccepts(host, port)) {
      throw new Error(`cannot start private Temporal: ${address} is taken by another process`);
    }
    proc = startServiceProcess(
      `private Temporal ${address}`,
      stack.temporal.bin,
      args,
      join(dir, 'temporal.log'),
    );
    await waitUntilReady(
      proc,
      'namespace "default" with search attributes ready',
      () => serverReady(address),
      READY_TIMEOUT_MS,
    );
  };
  const running = () => proc?.isRunning() ?? false;
  const halt = async (signal: NodeJS.Signals) => {
    if (!proc || !running()) return;
    await proc.stop({ signal, timeoutMs: 60_000 });
  };

  await start();
  return {
    address,
    namespace,
    dbFile,
    get pid() {
      return running() ? proc?.pid : undefined;
    },
    isRunning: running,
    stop: () => halt('SIGTERM'),
    kill: () => halt('SIGKILL'),
    start,
    async dispose() {
      try {
        await halt('SIGTERM');
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  };
}
