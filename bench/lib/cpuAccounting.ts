import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
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

/** utime + stime of a process, in seconds (fields 14 and 15 of /proc/<pid>/stat). */
function processCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may hold spaces; the fields after it start past its ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / clockTicksPerSecond;
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

/** The pid a dev/ service wrote to the stack's run dir (dev/lib.sh start_bg). */
export function stackServicePid(service: 'temporal' | 'mariadb'): number {
  const file = `${stack.stateDir}/run/${service}.pid`;
  const pid = Number(readFileSync(file, 'utf8').trim());
  if (!Number.isInteger(pid) || pid <= 0) throw new Error(`${file}: not a pid`);
  return pid;
}

/** Starts measuring; `self` is this process (the worker, in the benchmarks). */
export function startCpuMeter(processes: Record<string, number | 'self'>): { stop(): CpuUsage } {
  const read = (pid: number | 'self') => {
    if (pid !== 'self') return processCpuSeconds(pid);
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
          Object.entries(processes).map(([name, pid]) => [name, read(pid) - (before[name] ?? 0)]),
        ),
      };
    },
  };
}
