import { execFile } from 'node:child_process';
import { createServer, type Server, type Socket } from 'node:net';
import type { AppConfig } from '../../config/loadAppConfig.js';
import { parseIniConfig } from '../../config/loadAppConfig.js';
import { formatIni } from '../../config/pythonIni.js';
import type { DatabaseSettings } from '../../db/client.js';

/** An AppConfig for the exporter: plain-HTTP Pulp APIs like the dev stack's. */
export function exporterConfig(database: DatabaseSettings, temporalAddress: string): AppConfig {
  const ini = parseIniConfig(
    formatIni({
      pulp: { use_https_for_api: false },
      temporal: { address: temporalAddress, namespace: 'default', task_queue: 'metrics-test' },
    }),
    'test/metrics/config.ini',
  );
  return {
    configPath: 'test/metrics/config.ini',
    pulpConfigPath: 'test/metrics/pulp_config.yml',
    ini,
    database,
    jwtSecret: undefined,
    localAuth: true,
  };
}

/** A port nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A TCP server that accepts connections and never answers: a hung Pulp. */
export async function blackHole(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

export interface ToolResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs an external checker (promtool, docker compose) with optional stdin. A missing tool fails
 * with the script that installs it instead of a bare ENOENT.
 */
export function runTool(
  file: string,
  args: string[],
  opts: { input?: string; cwd?: string; installHint: string },
): Promise<ToolResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      file,
      args,
      { cwd: opts.cwd, maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const e = err as (NodeJS.ErrnoException & { code?: number | string }) | null;
        if (e && e.code === 'ENOENT') {
          reject(new Error(`${file} is not installed (not on PATH): run \`${opts.installHint}\``));
          return;
        }
        resolve({ code: e ? Number(e.code ?? 1) : 0, stdout, stderr });
      },
    );
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}

export const PROMTOOL_HINT = 'bash deploy/install-promtool.sh';

/** `promtool check metrics` on an exposition text: exit code and its complaints. */
export async function promtoolCheckMetrics(text: string): Promise<ToolResult> {
  return runTool('promtool', ['check', 'metrics'], { input: text, installHint: PROMTOOL_HINT });
}

/** The samples of one metric family in an exposition text, as `labels -> value`. */
export function samples(text: string, name: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? (\S+)$/.exec(line);
    if (m?.[1] === name) out.set(m[2] ?? '', Number(m[3]));
  }
  return out;
}
