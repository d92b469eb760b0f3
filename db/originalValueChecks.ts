// Values of the original's columns that this release's columns cannot hold: found before
// anything changes, so a conversion refuses instead of failing half way.
import { repoHealthStatuses, taskStates } from './enums.js';
import { type Conn, type OriginalTable, queryRows } from './originalSchema.js';

interface ValueCheck {
  table: OriginalTable;
  column: string;
  /** SQL condition true for a row whose value does not fit. */
  bad: string;
  reason: string;
  /** Column that identifies a row in the message (the original's composite keys have no id). */
  key?: string;
}

const linkKey = "CONCAT(pulp_server_id, '/', repo_group_id)";

const tooLong = (table: OriginalTable, column: string, key?: string): ValueCheck => ({
  table,
  column,
  bad: `CHAR_LENGTH(${column}) > 255`,
  reason: 'longer than 255 characters',
  key,
});

const negative = (table: OriginalTable, column: string, key?: string): ValueCheck => ({
  table,
  column,
  bad: `${column} < 0`,
  reason: 'negative',
  key,
});

/** A SMALLINT id of one of the original's Python enums, 1…count. */
const notAnId = (table: OriginalTable, column: string, enumName: string, count: number): ValueCheck => ({
  table,
  column,
  bad: `${column} NOT BETWEEN 1 AND ${count}`,
  reason: `not a ${enumName} id (1-${count})`,
});

/** Values of the original's columns that would not fit ours; each one refuses the conversion. */
const valueChecks: ValueCheck[] = [
  tooLong('pulp_servers', 'name'),
  tooLong('pulp_servers', 'repo_config_registration_schedule'),
  negative('pulp_servers', 'max_concurrent_snapshots'),
  notAnId('pulp_servers', 'repo_sync_health_rollup_id', 'RepoHealthStatus', repoHealthStatuses.length),
  tooLong('repo_groups', 'name'),
  tooLong('pulp_server_repo_groups', 'schedule', linkKey),
  negative('pulp_server_repo_groups', 'max_concurrent_syncs', linkKey),
  notAnId('pulp_server_repos', 'repo_sync_health_id', 'RepoHealthStatus', repoHealthStatuses.length),
  // TaskType has six names but five ids (5 is both removal kinds, see taskTypeSql).
  notAnId('tasks', 'task_type_id', 'TaskType', 5),
  notAnId('tasks', 'state_id', 'TaskState', taskStates.length),
  tooLong('tasks', 'worker_name'),
  tooLong('tasks', 'worker_job_id'),
  tooLong('task_stages', 'name'),
];

/** Every value that would not fit, one line per table and column (at most 10 row keys each). */
export async function findUnconvertibleValues(conn: Conn, tablePrefix = ''): Promise<string[]> {
  const problems: string[] = [];
  for (const check of valueChecks) {
    const key = check.key ?? 'id';
    const found = await queryRows<{ n: number | string; sample: string | null }>(
      conn,
      `SELECT COUNT(*) AS n, SUBSTRING_INDEX(GROUP_CONCAT(${key} ORDER BY ${key} SEPARATOR ','), ',', 10) AS sample
       FROM \`${tablePrefix}${check.table}\` WHERE ${check.bad}`,
    );
    const n = Number(found[0]?.n ?? 0);
    if (n > 0) {
      const keyName = check.key === undefined ? 'id' : 'pulp_server_id/repo_group_id';
      problems.push(
        `${check.table}.${check.column}: ${n} row(s) ${check.reason} (${keyName} ${found[0]?.sample ?? ''}${n > 10 ? ', …' : ''})`,
      );
    }
  }
  return problems;
}
