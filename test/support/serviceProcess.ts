import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { appendFile, readFile } from 'node:fs/promises';
import { createServer, Socket } from 'node:net';

/**
 * Process handling for the private service instances fault tests start and stop (Temporal,
 * MariaDB): spawn with output to a log file, wait until ready with a deadline, stop with a
 * signal and a timeout, free ports.
 */

/** A port nothing listens on right now: bind port 0 and let the kernel choose. */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, resolve);
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string')
    throw new Error(`freePort: no TCP port bound on ${host}`);
  return address.port;
}

/** True when something accepts TCP connections on host:port. */
export function portAccepts(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
    socket.connect(port, host);
  });
}

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ServiceProcess {
  readonly name: string;
  readonly pid: number;
  readonly logFile: string;
  /** Resolves when the process has exited (never rejects). */
  readonly exited: Promise<ExitInfo>;
  isRunning(): boolean;
  /** Sends `signal` (SIGTERM: the services here shut down cleanly on it) and waits for the exit. */
  stop(options?: { signal?: NodeJS.Signals; timeoutMs?: number }): Promise<ExitInfo>;
  /** The last lines of the log, for error messages. */
  logTail(lines?: number): Promise<string>;
}

// A crashed or interrupted test file must not leave services running on the machine.
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

async function tailOf(file: string, lines: number): Promise<string> {
  try {
    return (await readFile(file, 'utf8')).split('\n').slice(-lines).join('\n');
  } catch (err) {
    return `(log ${file} unreadable: ${err instanceof Error ? err.message : String(err)})`;
  }
}

/** Starts `command` with stdout and stderr appended to `logFile`. */
export function startServiceProcess(
  name: string,
  command: string,
  args: string[],
  logFile: string,
): ServiceProcess {
  const fd = openSync(logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn(command, args, { stdio: ['ignore', fd, fd] });
  } finally {
    // The child has its own copy of the descriptor.
    closeSync(fd);
  }
  let exitInfo: ExitInfo | undefined;
  const exited = new Promise<ExitInfo>((resolve) => {
    child.once('exit', (code, signal) => {
      live.delete(child);
      exitInfo = { code, signal };
      resolve(exitInfo);
    });
    // A spawn failure (missing binary) emits 'error' and never 'exit'.
    child.once('error', (err) => {
      if (child.pid !== undefined) return;
      live.delete(child);
      exitInfo = { code: null, signal: null };
      appendFile(logFile, `\n[test] could not start ${command}: ${err.message}\n`)
        .catch((writeErr: unknown) => console.error(`${name}: could not write ${logFile}`, writeErr))
        .finally(() => resolve({ code: null, signal: null }));
    });
  });
  live.add(child);
  const logTail = (lines = 30) => tailOf(logFile, lines);
  return {
    name,
    pid: child.pid ?? -1,
    logFile,
    exited,
    isRunning: () => exitInfo === undefined,
    logTail,
    async stop({ signal = 'SIGTERM', timeoutMs = 60_000 } = {}) {
      if (exitInfo) return exitInfo;
      child.kill(signal);
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), timeoutMs);
      });
      const outcome = await Promise.race([exited, timedOut]);
      clearTimeout(timer);
      if (outcome === 'timeout') {
        child.kill('SIGKILL');
        await exited;
        throw new Error(
          `${name} (pid ${child.pid}) did not exit within ${timeoutMs} ms of ${signal}; killed it. ` +
            `Log ${logFile}:\n${await logTail()}`,
        );
      }
      return outcome;
    },
  };
}

/**
 * Polls `ready` until it returns true, failing with the service's log when the deadline passes
 * or the process exits first. `ready` may throw: that counts as not ready yet.
 */
export async function waitUntilReady(
  proc: ServiceProcess,
  what: string,
  ready: () => Promise<boolean>,
  timeoutMs: number,
  intervalMs = 500,
): Promise<void> {
  const started = Date.now();
  let lastError = 'not ready';
  for (;;) {
    if (!proc.isRunning()) {
      const { code, signal } = await proc.exited;
      throw new Error(
        `${proc.name} exited (code ${code}, signal ${signal}) before ${what}. Log ${proc.logFile}:\n${await proc.logTail()}`,
      );
    }
    try {
      if (await ready()) return;
    } catch (err) {
      lastError = err instanceof Error ? err.message : String(err);
    }
    if (Date.now() - started > timeoutMs) {
      throw new Error(
        `${proc.name} (pid ${proc.pid}): ${what} did not happen within ${timeoutMs} ms (last: ${lastError}). ` +
          `Log ${proc.logFile}:\n${await proc.logTail()}`,
      );
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
