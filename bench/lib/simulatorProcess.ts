import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type {
  SeedSpec,
  SimTaskKind,
  SimTaskRecord,
  SimulatorFaults,
  SimulatorOptions,
  SimulatorStats,
} from '../../test/simulator/pulpApiSimulator.js';

const mainScript = fileURLToPath(new URL('../../test/simulator/main.ts', import.meta.url));

/** The Pulp API simulator (a test double) in a process of its own, driven over /_simulator/*. */
export interface SimulatorProcess {
  url: string;
  serverName: string;
  pid: number;
  seed(spec: SeedSpec): Promise<string[]>;
  setFaults(faults: SimulatorFaults): Promise<void>;
  tasks(kind?: SimTaskKind): Promise<SimTaskRecord[]>;
  stats(): Promise<SimulatorStats>;
  stop(): Promise<void>;
}

export async function spawnSimulator(options: SimulatorOptions): Promise<SimulatorProcess> {
  const child: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', mainScript, JSON.stringify(options)],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  const first = await Promise.race([
    new Promise<string>((resolve) => lines.once('line', resolve)),
    exited.then((code) => {
      throw new Error(`Pulp API simulator exited with code ${code} before it listened`);
    }),
  ]);
  const { url, serverName } = JSON.parse(first) as { url: string; serverName: string };

  const call = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const res = await fetch(`${url}/_simulator/${path}`, {
      method,
      headers: { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!res.ok)
      throw new Error(`simulator ${method} /_simulator/${path} answered ${res.status}: ${await res.text()}`);
    return (await res.json()) as T;
  };

  return {
    url,
    serverName,
    pid: child.pid ?? 0,
    seed: (spec) => call('POST', 'seed', spec),
    setFaults: async (faults) => {
      await call('POST', 'faults', faults);
    },
    tasks: (kind) => call('GET', kind ? `tasks?kind=${kind}` : 'tasks'),
    stats: () => call('GET', 'stats'),
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}
