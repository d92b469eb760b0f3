import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import mysql from 'mysql2/promise';
import type { DatabaseSettings } from '../../db/client.js';
import {
  freePort,
  portAccepts,
  type ServiceProcess,
  startServiceProcess,
  waitUntilReady,
} from './serviceProcess.js';

/**
 * A MariaDB server of one test's own (Debian's mariadbd, its own datadir in a temp dir), for
 * faults that stop the database: the shared stack's MariaDB must never be stopped. Root is
 * reachable only over the private socket (unix_socket auth, as dev/mariadb.sh sets it up); the
 * application connects over TCP with a user and password, like the product does.
 */
export interface PrivateMariaDb {
  /** Settings of the application user and its (empty) database; the same across restarts. */
  readonly settings: DatabaseSettings;
  isRunning(): boolean;
  /** A clean shutdown (SIGTERM) and wait for the exit. */
  stop(): Promise<void>;
  /** Starts mariadbd again on the same datadir; resolves once the application user can query. */
  start(): Promise<void>;
  /** Stops it if running and deletes the datadir. */
  dispose(): Promise<void>;
}

const host = '127.0.0.1';
const execFileAsync = promisify(execFile);
// Two cores shared with other agents: InnoDB recovery and start-up can be slow.
const READY_TIMEOUT_MS = 60_000;

async function run(what: string, command: string, args: string[]): Promise<void> {
  try {
    await execFileAsync(command, args, { timeout: 120_000 });
  } catch (err) {
    const e = err as { stderr?: string; stdout?: string; message?: string };
    throw new Error(`${what} failed: ${e.message ?? String(err)}\n${e.stdout ?? ''}${e.stderr ?? ''}`);
  }
}

async function appUserCanQuery(settings: DatabaseSettings): Promise<boolean> {
  const conn = await mysql.createConnection({ ...settings, connectTimeout: 2000 });
  try {
    const [rows] = await conn.query('SELECT 1 AS ok');
    return (rows as { ok: number }[])[0]?.ok === 1;
  } finally {
    await conn.end();
  }
}

export async function startPrivateMariaDb(
  options: { database?: string; user?: string; password?: string } = {},
): Promise<PrivateMariaDb> {
  const dir = await mkdtemp(join(tmpdir(), 'pm-mariadb-'));
  const datadir = join(dir, 'data');
  const socket = join(dir, 'mysqld.sock');
  await mkdir(join(dir, 'tmp'));
  const port = await freePort();
  const settings: DatabaseSettings = {
    host,
    port,
    database: options.database ?? 'pulp_manager',
    user: options.user ?? 'pulp_manager',
    password: options.password ?? 'private-mariadb-test',
  };
  // --no-defaults first: /etc/mysql/my.cnf belongs to the system service, not to this instance.
  const serverOptions = [
    '--no-defaults',
    `--datadir=${datadir}`,
    '--user=root',
    '--skip-log-bin',
    '--innodb-buffer-pool-size=32M',
    '--innodb-log-file-size=16M',
    '--character-set-server=utf8mb4',
    '--collation-server=utf8mb4_unicode_ci',
  ];
  await run('mariadb-install-db', 'mariadb-install-db', [
    ...serverOptions,
    '--skip-test-db',
    '--auth-root-authentication-method=socket',
  ]);
  const args = [
    ...serverOptions,
    `--port=${port}`,
    `--bind-address=${host}`,
    `--socket=${socket}`,
    `--pid-file=${join(dir, 'mysqld.pid')}`,
    `--tmpdir=${join(dir, 'tmp')}`,
    '--skip-name-resolve',
    '--performance-schema=OFF',
    '--innodb-flush-log-at-trx-commit=2',
    '--max-connections=100',
  ];
  const rootSql = (sql: string) =>
    run('mariadb (root over the private socket)', 'mariadb', [
      '--no-defaults',
      `--socket=${socket}`,
      '-uroot',
      '--batch',
      '-e',
      sql,
    ]);
  let proc: ServiceProcess | undefined;

  const launch = async (readyWhen: string, ready: () => Promise<boolean>): Promise<ServiceProcess> => {
    if (proc?.isRunning()) throw new Error(`private MariaDB on ${host}:${port} is already running`);
    // A restart must get the same port back: the application's pool reconnects to it.
    if (await portAccepts(host, port)) {
      throw new Error(`cannot start private MariaDB: ${host}:${port} is taken by another process`);
    }
    const started = startServiceProcess(
      `private MariaDB ${host}:${port}`,
      'mariadbd',
      args,
      join(dir, 'mariadbd.log'),
    );
    proc = started;
    await waitUntilReady(started, readyWhen, ready, READY_TIMEOUT_MS);
    return started;
  };

  const first = await launch('root can query over the socket', async () => {
    await rootSql('SELECT 1');
    return true;
  });
  const { database, user, password } = settings;
  const quoted = password.replace(/\\/g, '\\\\').replace(/'/g, "\\'");
  await rootSql(
    [
      `CREATE DATABASE \`${database}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`,
      `CREATE USER '${user}'@'${host}' IDENTIFIED BY '${quoted}'`,
      `GRANT ALL PRIVILEGES ON \`${database}\`.* TO '${user}'@'${host}'`,
    ].join(';\n'),
  );
  await waitUntilReady(
    first,
    `${user} can query over TCP`,
    () => appUserCanQuery(settings),
    READY_TIMEOUT_MS,
  );

  const running = () => proc?.isRunning() ?? false;
  const stop = async () => {
    if (!proc || !running()) return;
    // mariadbd treats SIGTERM as SHUTDOWN: InnoDB is flushed and the next start needs no recovery.
    const { code, signal } = await proc.stop({ signal: 'SIGTERM', timeoutMs: 120_000 });
    if (code !== 0) {
      throw new Error(
        `private MariaDB did not shut down cleanly (code ${code}, signal ${signal}):\n${await proc.logTail()}`,
      );
    }
  };
  return {
    settings,
    isRunning: running,
    stop,
    async start() {
      await launch(`${user} can query over TCP`, () => appUserCanQuery(settings));
    },
    async dispose() {
      try {
        await stop();
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  };
}
