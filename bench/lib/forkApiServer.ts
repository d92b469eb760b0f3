// The API under test in a process of its own (bench/lib/apiServerProcess.ts): the load
// generator must not share the server's event loop, or its own work would count as server
// latency. The config travels in the environment (it holds the database password), the port
// comes back over IPC.
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { DatabaseSettings } from '../../db/client.js';

export const CONFIG_ENV = 'PULP_MANAGER_BENCH_API_CONFIG';

export interface BenchApiConfig {
  /** config.ini sections. */
  ini: Record<string, Record<string, string | number | boolean>>;
  database: DatabaseSettings;
  jwtSecret: string;
}

export type ServerMessage = { listening: number } | { failed: string };

export interface ForkedApiServer {
  baseUrl: string;
  pid: number | undefined;
  stop(): Promise<void>;
}

const entry = fileURLToPath(new URL('./apiServerProcess.ts', import.meta.url));

export async function forkApiServer(
  config: BenchApiConfig,
  startTimeoutMs = 30_000,
): Promise<ForkedApiServer> {
  const child: ChildProcess = fork(entry, [], {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, [CONFIG_ENV]: JSON.stringify(config) },
    // stdout carries nothing useful (request logs are dropped); warnings and errors go to stderr.
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill();
      reject(new Error(`the API server process did not listen within ${startTimeoutMs} ms`));
    }, startTimeoutMs);
    child.once('message', (msg: ServerMessage) => {
      clearTimeout(timer);
      if ('listening' in msg) resolve(msg.listening);
      else reject(new Error(`the API server process failed to start: ${msg.failed}`));
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`the API server process exited before listening (code ${code}, signal ${signal})`));
    });
  });
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    pid: child.pid,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.send('stop');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
