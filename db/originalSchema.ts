// What this release knows of the ORIGINAL Pulp Manager's database (pulp/Pulp-manager, Python,
// SQLAlchemy + alembic): shared by its detection, checks and copy (db/originalDatabase.ts).
import type mysql from 'mysql2/promise';

/** The original's alembic head at pulp/Pulp-manager 8d3e650, the revision this converts. */
export const originalHeadRevision = '1d9d4fd3f6fa';
/** Alembic revisions whose schema this release converts (the original's head only). */
export const supportedOriginalRevisions: readonly string[] = [originalHeadRevision];

/** The original's tables, parents first. Ours have the same names. */
export const originalTables = [
  'pulp_servers',
  'repo_groups',
  'repos',
  'pulp_server_repo_groups',
  'pulp_server_repos',
  'tasks',
  'task_stages',
  'pulp_server_repo_tasks',
] as const;
export type OriginalTable = (typeof originalTables)[number];

export const backupPrefix = 'original__';
export const backupOf = (table: string) => `${backupPrefix}${table}`;
export const conversionRecordTable = `${backupPrefix}conversion`;

/**
 * The committed migration whose schema the copy below was written against: the conversion
 * applies the migrations up to it, copies, and leaves the later ones to the normal migrate.
 */
export const conversionTargetMigration = '0002_tasks_unique_workflow_run';

export type Conn = mysql.Connection;

export async function queryRows<T>(conn: Conn, query: string, params: unknown[] = []): Promise<T[]> {
  const [result] = await conn.query(query, params);
  return result as T[];
}
