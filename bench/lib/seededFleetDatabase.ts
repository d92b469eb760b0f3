// One seeded database per fleet size, shared by the API and exporter benchmarks of a `make bench`
// run (bench/READING.md, "Seeded databases"). The database is named by the seed version and the
// size; a row in its own table `bench_seed` holds the fleet summary the benchmarks check their
// answers against, written only once the seed is complete. A benchmark reuses the database when
// that row is there, its seed version and size match and the task count is still the seeded one;
// anything else is dropped and seeded again. Dates are relative to now, so a reused database has
// its dates moved forward by the time since it was seeded (or last moved).
import mysql from 'mysql2/promise';
import { closeDatabase, createDatabase, type DatabaseSettings } from '../../db/client.js';
import { migrateDatabase } from '../../db/migrate.js';
import { stack } from '../../test/support/stack.js';
import { type FleetSize, type SeededFleet, seedLargeFleet } from './seedLargeFleet.js';

/** Bump whenever seedLargeFleet seeds different rows: older databases are then seeded again. */
export const SEED_VERSION = 3;
/** A reused database older than this has its dates moved forward first. */
const SHIFT_AFTER_SECONDS = 3600;
/** Databases of the dev user must start with this (dev/mariadb.sh grants it). */
const PREFIX = 'pulp_manager_test_bench_';

export interface SeededFleetDatabase {
  settings: DatabaseSettings;
  fleet: SeededFleet;
  /** True when an earlier benchmark (or run) seeded it. */
  reused: boolean;
  /** Seconds spent seeding in this call (0 when reused), and moving dates when reused. */
  seedSeconds: number;
  shiftSeconds: number;
  /** Drops the database unless it is shared (BENCH_SHARED_SEED=1, set by bench/run.sh). */
  release(): Promise<void>;
}

export const seededDatabaseName = (size: FleetSize) =>
  `${PREFIX}v${SEED_VERSION}_${size.servers}x${size.reposPerServer}_${size.tasks}_${size.historyDays}d`;

async function serverConnection(database?: string): Promise<mysql.Connection> {
  const { host, port, user, password } = stack.mariadb;
  return mysql.createConnection({ host, port, user, password, database, timezone: 'Z' });
}

interface SeedRow {
  seed_version: number;
  fleet: string;
  dates_at: Date;
}

/** The complete seed in `name`, or undefined when it is absent, incomplete or not this version's. */
async function completeSeed(name: string, size: FleetSize): Promise<SeedRow | undefined> {
  const conn = await serverConnection();
  try {
    const [dbs] = await conn.query(
      'SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?',
      [name],
    );
    if ((dbs as unknown[]).length === 0) return undefined;
    const [tables] = await conn.query(
      "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = 'bench_seed'",
      [name],
    );
    if ((tables as unknown[]).length === 0) return undefined;
    const [rows] = await conn.query(`SELECT seed_version, fleet, dates_at FROM \`${name}\`.bench_seed`);
    const row = (rows as SeedRow[])[0];
    if (row === undefined || row.seed_version !== SEED_VERSION) return undefined;
    const [counted] = await conn.query(`SELECT COUNT(*) AS n, MAX(id) AS max FROM \`${name}\`.tasks`);
    const { n, max } = (counted as { n: number; max: number | null }[])[0] as {
      n: number;
      max: number | null;
    };
    // A benchmark that wrote tasks and did not remove them leaves a fleet the checks do not know.
    if (Number(n) !== size.tasks || Number(max) !== size.tasks) return undefined;
    return row;
  } finally {
    await conn.end();
  }
}

async function dropDatabase(name: string): Promise<void> {
  const conn = await serverConnection();
  try {
    await conn.query(`DROP DATABASE IF EXISTS \`${name}\``);
  } finally {
    await conn.end();
  }
}

/** Moves every date of the seeded rows forward by `seconds`, so "the last day" is still today's. */
async function shiftDates(settings: DatabaseSettings, seconds: number): Promise<void> {
  const conn = await serverConnection(settings.database);
  const by = `INTERVAL ${Math.round(seconds * 1000)} * 1000 MICROSECOND`;
  try {
    await conn.query(
      `UPDATE tasks SET date_queued = date_queued + ${by}, date_started = date_started + ${by}, ` +
        `date_finished = date_finished + ${by}, date_created = date_created + ${by}, ` +
        `date_last_updated = date_last_updated + ${by}`,
    );
    await conn.query(`UPDATE pulp_server_repos SET repo_sync_health_date = repo_sync_health_date + ${by}`);
    await conn.query(
      `UPDATE pulp_servers SET repo_sync_health_rollup_date = repo_sync_health_rollup_date + ${by}`,
    );
    await conn.query(`UPDATE bench_seed SET dates_at = dates_at + ${by}`);
  } finally {
    await conn.end();
  }
}

/** The seeded database of `size`: reused when complete and of this seed version, else seeded now. */
export async function seededFleetDatabase(size: FleetSize): Promise<SeededFleetDatabase> {
  const name = seededDatabaseName(size);
  const settings: DatabaseSettings = { ...stack.mariadb, database: name };
  const shared = process.env.BENCH_SHARED_SEED === '1';
  const release = async () => {
    if (!shared) await dropDatabase(name);
  };
  const found = await completeSeed(name, size);
  if (found !== undefined) {
    // Pending migrations (new indexes) apply to the reused rows as they would in production.
    await migrateDatabase(settings);
    const t0 = performance.now();
    const behind = (Date.now() - new Date(found.dates_at).getTime()) / 1000;
    // Within a run (minutes) the "last day" filters still see the same rows; across runs they would not.
    if (behind > SHIFT_AFTER_SECONDS) await shiftDates(settings, behind);
    return {
      settings,
      fleet: JSON.parse(found.fleet) as SeededFleet,
      reused: true,
      seedSeconds: 0,
      shiftSeconds: (performance.now() - t0) / 1000,
      release,
    };
  }
  await dropDatabase(name);
  const conn = await serverConnection();
  try {
    await conn.query(`CREATE DATABASE \`${name}\``);
  } finally {
    await conn.end();
  }
  try {
    await migrateDatabase(settings);
    const db = createDatabase(settings);
    try {
      const fleet = await seedLargeFleet(db, size);
      await db.$client.query(
        'CREATE TABLE bench_seed (seed_version int NOT NULL, fleet longtext NOT NULL, dates_at datetime(3) NOT NULL)',
      );
      await db.$client.query('INSERT INTO bench_seed VALUES (?, ?, UTC_TIMESTAMP(3))', [
        SEED_VERSION,
        JSON.stringify(fleet),
      ]);
      return { settings, fleet, reused: false, seedSeconds: fleet.seedSeconds, shiftSeconds: 0, release };
    } finally {
      await closeDatabase(db);
    }
  } catch (err) {
    await dropDatabase(name);
    throw err;
  }
}

/** Drops every seeded benchmark database (bench/run.sh, at the end of a run). */
export async function dropSeededFleetDatabases(): Promise<string[]> {
  const conn = await serverConnection();
  try {
    const [rows] = await conn.query(
      'SELECT SCHEMA_NAME AS name FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE ?',
      [`${PREFIX.replaceAll('_', '\\_')}%`],
    );
    const names = (rows as { name: string }[]).map((r) => r.name);
    for (const n of names) await conn.query(`DROP DATABASE IF EXISTS \`${n}\``);
    return names;
  } finally {
    await conn.end();
  }
}
