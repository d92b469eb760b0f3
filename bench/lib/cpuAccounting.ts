import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { stack } from '../../test/support/stack.js';

/**
 * Where a benchmark's CPU went (Linux /proc): seconds of CPU each named process used between
 * start() and stop(), and the machine's busy seconds over all cores. On a 2-core machine that
 * runs the Temporal server, MariaDB, the simulator and the worker together, this tells a gap
 * caused by saturated cores from one caused by waiting.
 */
export interface CpuUsage {
  wallS: number;
  /** Cores × wall time: the CPU seconds the machine had. */
  capacityS: number;
  /** CPU seconds the machine spent busy (all processes, user + system + irq). */
  busyS: number;
  /** CPU seconds the hypervisor gave to other guests while this one wanted them (shared host). */
  stealS: number;
  /** CPU seconds per named process. */
  byProcess: Record<string, number>;
}

const clockTicksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());

/** The fields of /proc/<pid>/stat after the command name, or undefined when the process is gone. */
function statFields(pid: number): string[] | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ESRCH')
      return undefined;
    throw err;
  }
  // The command name (field 2) may hold spaces; the fields after it start past its ')'.
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** utime + stime of a process, in seconds (fields 14 and 15 of /proc/<pid>/stat). */
function processCpuSeconds(pid: number): number {
  const fields = statFields(pid);
  if (!fields) throw new Error(`process ${pid} is gone: cannot meter its CPU`);
  return (Number(fields[11]) + Number(fields[12])) / clockTicksPerSecond;
}

/** The process and its live descendants, from the parent pids of /proc/<pid>/stat (field 4). */
function processTree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const ppid = Number(statFields(Number(entry))?.[1]);
    if (!Number.isInteger(ppid)) continue;
    children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
  }
  const tree: number[] = [];
  const queue = [root];
  for (let pid = queue.shift(); pid !== undefined; pid = queue.shift()) {
    tree.push(pid);
    queue.push(...(children.get(pid) ?? []));
  }
  return tree;
}

/**
 * CPU seconds of a process tree (e.g. a gunicorn master and its workers): each live member's
 * utime + stime plus cutime + cstime (fields 16 and 17: the children it has reaped, so a worker
 * that a master restarted during the run still counts).
 */
function treeCpuSeconds(root: number): number {
  if (!statFields(root)) throw new Error(`process ${root} is gone: cannot meter its CPU`);
  let ticks = 0;
  for (const pid of processTree(root)) {
    const f = statFields(pid);
    if (f) ticks += Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
  }
  return ticks / clockTicksPerSecond;
}

/** Busy and total CPU seconds of the whole machine, from the `cpu` line of /proc/stat. */
function machineCpuSeconds(): { busy: number; steal: number; cores: number } {
  const text = readFileSync('/proc/stat', 'utf8');
  const [user, nice, system, idle, , irq, softirq, steal] = (text.split('\n')[0] ?? '')
    .trim()
    .split(/\s+/)
    .slice(1)
    .map(Number);
  const cores = text.split('\n').filter((l) => /^cpu\d+ /.test(l)).length;
  if (user === undefined || idle === undefined) throw new Error('/proc/stat: no cpu line');
  return {
    busy: (user + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0)) / clockTicksPerSecond,
    steal: (steal ?? 0) / clockTicksPerSecond,
    cores,
  };
}

/** A process to meter: a pid, the benchmark process itself, or a process with its descendants. */
export type MeteredProcess = number | 'self' | { tree: number };

/**
 * The pid a dev/ service wrote to the stack's run dir (dev/lib.sh start_bg): `pulp-primary-api`
 * is the gunicorn master of the primary's API (its workers are its children; meter it as a tree).
 */
export function stackServicePid(
  service:
    | 'temporal'
    | 'mariadb'
    | 'pulp-primary-api'
    | 'pulp-primary-content'
    | 'pulp-primary-worker'
    | 'pulp-postgres',
): number {
  const file = `${stack.stateDir}/run/${service}.pid`;
  const pid = Number(readFileSync(file, 'utf8').trim());
  if (!Number.isInteger(pid) || pid <= 0) throw new Error(`${file}: not a pid`);
  return pid;
}

/** Starts measuring; `self` is this process (the worker, in the benchmarks). */
export function startCpuMeter(processes: Record<string, MeteredProcess>): { stop(): CpuUsage } {
  const read = (p: MeteredProcess) => {
    if (typeof p === 'number') return processCpuSeconds(p);
    if (p !== 'self') return treeCpuSeconds(p.tree);
    const own = process.cpuUsage();
    return (own.user + own.system) / 1e6;
  };
  const before = Object.fromEntries(Object.entries(processes).map(([name, pid]) => [name, read(pid)]));
  const machineBefore = machineCpuSeconds();
  const t0 = Date.now();
  return {
    stop() {
      const wallS = (Date.now() - t0) / 1000;
      const machine = machineCpuSeconds();
      return {
        wallS,
        capacityS: wallS * machine.cores,
        busyS: machine.busy - machineBefore.busy,
        stealS: machine.steal - machineBefore.steal,
        byProcess: Object.fromEntries(
          Object.entries(processes).map(([name, p]) => [name, read(p) - (before[name] as number)]),
        ),
      };
    },
  };
}

/** "cores 93 % busy: api 41 %, mariadb 30 %, … other processes 12 %", shares of the machine's capacity. */
export function cpuShareText(cpu: CpuUsage): string {
  const pct = (s: number) => `${Math.round((100 * s) / cpu.capacityS)} %`;
  const named = Object.values(cpu.byProcess).reduce((a, b) => a + b, 0);
  return `cores ${pct(cpu.busyS)} busy over ${Math.round(cpu.wallS)} s (${Object.entries(cpu.byProcess)
    .map(([name, s]) => `${name} ${pct(s)}`)
    .join(', ')}, other processes ${pct(Math.max(0, cpu.busyS - named))}, stolen ${pct(cpu.stealS)})`;
}
