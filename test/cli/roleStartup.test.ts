import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { ScheduleNotFoundError } from '@temporalio/client';
import { eq } from 'drizzle-orm';
import mysql from 'mysql2/promise';
import { afterAll, describe, expect, it } from 'vitest';
import { migrateDatabase } from '../../db/migrate.js';
import { pulp_servers, repo_groups } from '../../db/schema.js';
import { repoGroupSyncScheduleId, SWEEP_STALE_TASKS_SCHEDULE_ID } from '../../temporal/names.js';
import { useCliSandbox } from '../support/cliSandbox.js';
import { freePort } from '../support/serviceProcess.js';

/**
 * The long-running roles as an operator starts them (real processes): api, worker and exporter
 * refuse a database that is not migrated, before they change anything; api and worker apply
 * pulp_config.yml at start-up (database rows and Temporal schedules), as the original did. A
 * namespace of this file's own: applying a config deletes the managed schedules it does not name.
 */
const sh = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));
const namespace = 'pulp-manager-test-startup';
const run = randomBytes(3).toString('hex');
const server = `start-${run}.example.com`;

const children = new Set<ChildProcess>();

function fleet(groups: Record<string, string>): string {
  return [
    'pulp_servers:',
    `  ${server}:`,
    '    credentials: local',
    '    repo_groups:',
    ...Object.entries(groups).flatMap(([group, cron]) => [
      `      ${group}:`,
      `        schedule: "${cron}"`,
      '        max_concurrent_syncs: 2',
      '        max_runtime: "6h"',
    ]),
    'credentials:',
    '  local:',
    '    username: admin',
    '    vault_service_account_mount: local-auth',
    'repo_groups:',
    ...Object.keys(groups).flatMap((group) => [`  ${group}:`, `    regex_include: ^${group}-`]),
    '',
  ].join('\n');
}

/** Runs a role that should refuse to start: its exit code and output. */
async function refused(args: string[]) {
  try {
    const { stdout, stderr } = await sh('node', ['--import', 'tsx', 'cli/main.ts', ...args], {
      cwd: root,
      env: sandbox.env,
      timeout: 90_000,
    });
    return { code: 0, out: `${stdout}${stderr}` };
  } catch (err) {
    const e = err as { code: number; signal?: string; stdout: string; stderr: string };
    return { code: e.code, signal: e.signal, out: `${e.stdout}${e.stderr}` };
  }
}

/** Starts a role and resolves once it printed `ready` (rejects when it exits first). */
function startRole(args: string[], ready: RegExp): Promise<ChildProcess> {
  const p = spawn('node', ['--import', 'tsx', 'cli/main.ts', ...args], { cwd: root, env: sandbox.env });
  children.add(p);
  let out = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${args[0]} not ready in 90 s:\n${out}`)), 90_000);
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      if (ready.test(out)) {
        clearTimeout(timer);
        resolve(p);
      }
    };
    p.stdout.on('data', onData);
    p.stderr.on('data', onData);
    p.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${args[0]} exited (${code}) before it was ready:\n${out}`));
    });
  });
}

async function stopRole(p: ChildProcess): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return;
  const exited = new Promise<void>((r) => p.once('exit', () => r()));
  p.kill('SIGTERM');
  const timer = setTimeout(() => p.kill('SIGKILL'), 20_000);
  await exited;
  clearTimeout(timer);
  children.delete(p);
}

async function tableCount(): Promise<number> {
  const conn = await mysql.createConnection({ ...sandbox.settings });
  try {
    const [rows] = await conn.query('SHOW TABLES');
    return (rows as unknown[]).length;
  } finally {
    await conn.end();
  }
}

async function scheduleIdsOfServer(): Promise<string[]> {
  const ids: string[] = [];
  for await (const s of sandbox.temporal.schedule.list())
    if (s.scheduleId.includes(server)) ids.push(s.scheduleId);
  return ids.sort();
}

async function cronOf(id: string): Promise<string> {
  const c = (await sandbox.temporal.schedule.getHandle(id).describe()).spec.calendars?.[0];
  return `${c?.minute?.[0]?.start} ${c?.hour?.[0]?.start}`;
}

const sandbox = useCliSandbox({
  namespace,
  ini: { task_queue: `startup-${run}` },
  fleet: fleet({ nightly: '0 2 * * *' }),
  env: { PULP_MANAGER_LOCAL_AUTH: 'true', JWT_SECRET: randomBytes(32).toString('hex') },
});

afterAll(async () => {
  for (const p of children) await stopRole(p);
  if (sandbox.ready) {
    for (const id of [...(await scheduleIdsOfServer()), SWEEP_STALE_TASKS_SCHEDULE_ID]) {
      await sandbox.temporal.schedule
        .getHandle(id)
        .delete()
        .catch((err: unknown) => {
          if (!(err instanceof ScheduleNotFoundError)) throw err;
        });
    }
  }
});

describe('roles on a database that is not migrated', () => {
  it.each([
    ['api', ['api', '--host', '127.0.0.1', '--port', '0']],
    ['worker', ['worker', '--metrics-port', '0']],
    ['exporter', ['exporter', '--host', '127.0.0.1', '--port', '0']],
  ])('%s refuses to start, names the database and what to run, and changes nothing', async (_role, args) => {
    const res = await refused(args);
    expect(res.code).toBe(1);
    expect(res.out).toContain(
      `DB_NOT_MIGRATED: database ${sandbox.settings.database} is not migrated: run \`pulp-manager migrate\``,
    );
    expect(await tableCount()).toBe(0);
    expect(await scheduleIdsOfServer()).toEqual([]);
  });
});

describe('config applied at start-up', () => {
  it('api applies pulp_config.yml before it serves; a worker started later applies the edited file', async () => {
    await migrateDatabase(sandbox.settings);
    const apiPort = await freePort();
    const api = await startRole(['api', '--host', '127.0.0.1', '--port', String(apiPort)], /api listening/);
    try {
      const [row] = await sandbox.db.select().from(pulp_servers).where(eq(pulp_servers.name, server));
      expect(row).toMatchObject({ name: server, username: 'admin' });
      expect(await scheduleIdsOfServer()).toEqual([repoGroupSyncScheduleId(server, 'nightly')]);
      expect(await cronOf(repoGroupSyncScheduleId(server, 'nightly'))).toBe('0 2');
      expect((await fetch(`http://127.0.0.1:${apiPort}/ready`)).status).toBe(200);
    } finally {
      await stopRole(api);
    }

    // The operator edits the file: a new cron, one group more. Nothing changes until a role starts.
    await sandbox.writeFleet(fleet({ nightly: '30 4 * * *', weekly: '15 3 * * *' }));
    expect(await cronOf(repoGroupSyncScheduleId(server, 'nightly'))).toBe('0 2');
    const worker = await startRole(['worker', '--metrics-port', '0'], /worker polling/);
    try {
      expect(await scheduleIdsOfServer()).toEqual(
        [repoGroupSyncScheduleId(server, 'nightly'), repoGroupSyncScheduleId(server, 'weekly')].sort(),
      );
      expect(await cronOf(repoGroupSyncScheduleId(server, 'nightly'))).toBe('30 4');
      expect(await cronOf(repoGroupSyncScheduleId(server, 'weekly'))).toBe('15 3');
      const groups = (await sandbox.db.select({ name: repo_groups.name }).from(repo_groups))
        .map((g) => g.name)
        .sort();
      expect(groups).toEqual(['nightly', 'weekly']);
    } finally {
      await stopRole(worker);
    }
  });
});
