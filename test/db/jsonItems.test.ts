// The API's list answers are JSON text built by MariaDB (db/jsonItems.ts). They must read back
// as exactly what the object path (listPage, then withIsoDates / taskJson, then JSON.stringify)
// answered: every field, every null, every date to the millisecond, booleans, JSON columns, and
// strings that need escaping.
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { withIsoDates } from '../../api/schemas/common.js';
import {
  listServerRepoGroups,
  listServerRepos,
  listServerRepoTasks,
  listServers,
  listTasks,
} from '../../api/services/lists.js';
import { taskJson } from '../../api/services/taskJson.js';
import { mysqlErrorNumber } from '../../db/driverErrors.js';
import { type ListPage, type ListQueryInput, listPage } from '../../db/listQuery.js';
import {
  pulpServerList,
  serverRepoGroupList,
  serverRepoList,
  serverRepoTaskList,
  taskList,
} from '../../db/listSpecs.js';
import {
  pulp_server_repo_groups,
  pulp_server_repo_tasks,
  pulp_server_repos,
  pulp_servers,
  repo_groups,
  repos,
  tasks,
} from '../../db/schema.js';
import { linkTasksToServerRepos } from '../../db/taskRecords.js';
import { useMigratedDatabase } from './throwawayDatabase.js';

const paging = { default_page_size: 50, max_page_size: 500, total_cache_seconds: 0 };

// Strings JSON must escape, and characters MariaDB's and V8's escaping could disagree on.
const awkward = [
  'quote " backslash \\ slash /',
  'controls \u0001\u0008\t\n\f\r\u001f and DEL \u007f',
  'line separators \u2028\u2029',
  'accents é ñ ü, CJK 漢字, emoji 🦀👩‍💻',
  '<script>alert(1)</script>',
  '',
];

const database = useMigratedDatabase();

async function seed() {
  const { db } = database;
  await db.insert(pulp_servers).values(
    awkward.map((text, i) => ({
      name: `pulp-${i}.example.com${text.slice(0, 20)}`,
      username: text || 'svc',
      vault_service_account_mount: i % 2 === 0 ? null : text,
      snapshot_supported: i % 2 === 0,
      max_concurrent_snapshots: i === 0 ? null : i,
      repo_config_registration_regex_include: i === 1 ? null : `^${text}`,
      repo_sync_health_rollup: i === 0 ? null : ('green' as const),
      repo_sync_health_rollup_date: i === 0 ? null : new Date(Date.UTC(2026, 0, 1, 0, 0, 0, i * 111)),
    })),
  );
  const servers = await db.select().from(pulp_servers).orderBy(pulp_servers.id);
  const serverId = servers[1]?.id as number;
  await db
    .insert(repo_groups)
    .values(
      awkward.map((text, i) => ({ name: `group ${i} ${text}`, regex_include: text, regex_exclude: null })),
    );
  const groups = await db.select().from(repo_groups);
  await db.insert(pulp_server_repo_groups).values(
    groups.map((g, i) => ({
      pulp_server_id: serverId,
      repo_group_id: g.id,
      schedule: i === 0 ? null : '0 3 * * *',
      max_concurrent_syncs: i + 1,
      max_runtime: '6h',
    })),
  );
  await db.insert(repos).values(awkward.map((text, i) => ({ name: `ext-${i}-${text}`, repo_type: 'rpm' })));
  const repoRows = await db.select().from(repos).orderBy(repos.id);
  await db.insert(pulp_server_repos).values(
    repoRows.map((repo, i) => ({
      pulp_server_id: serverId,
      repo_id: repo.id,
      repo_href: `/pulp/api/v3/repositories/rpm/rpm/${repo.id}/`,
      remote_feed: i === 0 ? null : `https://upstream.example.com/${awkward[i]}`,
      repo_sync_health: i === 0 ? null : ('amber' as const),
      repo_sync_health_date: new Date(Date.UTC(1999, 11, 31, 23, 59, 59, 999)),
    })),
  );
  const serverRepo = (await db.select().from(pulp_server_repos).orderBy(pulp_server_repos.id))[0];
  await db.insert(tasks).values(
    awkward.map((text, i) => ({
      name: `repo sync ${text}`,
      task_type: 'repo_sync' as const,
      state: i % 2 === 0 ? ('failed' as const) : ('completed' as const),
      pulp_server_id: i === 0 ? null : serverId,
      task_args: { repo: text, nested: [1, 2.5, -3e-7, true, null, { deep: text }], big: 2 ** 53 - 1 },
      date_queued: new Date(Date.UTC(2026, 11, 2, 10, 0, 0, i)),
      date_started: i === 0 ? null : new Date(Date.UTC(2026, 11, 2, 10, 0, 1, 0)),
      worker_name: i === 0 ? null : text,
      workflow_id: `repo-sync/${text}`,
      error: i % 2 === 0 ? { msg: text, detail: { code: i } } : null,
    })),
  );
  // A task as the original's database left it: JSON written by Python (spaces, escapes of its own).
  await db.execute(
    sql`INSERT INTO tasks (name, task_type, state, task_args, date_queued, error) VALUES ('migrated', 'repo_sync', 'failed', '{"repo": "caf\\u00e9", "n": 1.0}', '2024-02-29 12:00:00.000', '{"msg": "x", "list": [1, 2]}')`,
  );
  const taskRows = await db.select({ id: tasks.id }).from(tasks);
  await linkTasksToServerRepos(
    db,
    taskRows.map((t) => ({ serverRepoId: serverRepo?.id as number, taskId: t.id })),
  );
  return { serverId, serverRepo: serverRepo as { id: number; repo_id: number } };
}

/** The answer the object path gave: JSON.stringify of the page with the API's item mapping. */
function objectAnswer<T extends object>(page: ListPage<T>, item: (row: T) => object): unknown {
  return JSON.parse(JSON.stringify({ ...page, items: page.items.map(item) }));
}

const queries: ListQueryInput[] = [{}, { order_by: 'desc' }, { page_size: '2', page: '2' }];

describe('list items built by MariaDB', () => {
  it('read back as the object path answered, for every list of the API', async () => {
    const { db } = database;
    const { serverId, serverRepo } = await seed();
    // Rows per list: one per awkward string (tasks: plus the migrated one).
    const rowCounts = [
      awkward.length,
      awkward.length,
      awkward.length,
      awkward.length + 1,
      awkward.length + 1,
    ];
    for (const query of queries) {
      const pairs: [unknown, unknown][] = [
        [
          JSON.parse(await listServers(db, query, paging)),
          objectAnswer(await listPage(db, pulpServerList, query, paging), withIsoDates),
        ],
        [
          JSON.parse(await listServerRepos(db, serverId, query, paging)),
          objectAnswer(
            await listPage(db, serverRepoList, query, paging, [
              sql`${pulp_server_repos.pulp_server_id} = ${serverId}`,
            ]),
            withIsoDates,
          ),
        ],
        [
          JSON.parse(await listServerRepoGroups(db, serverId, query, paging)),
          objectAnswer(
            await listPage(db, serverRepoGroupList, query, paging, [
              sql`${pulp_server_repo_groups.pulp_server_id} = ${serverId}`,
            ]),
            withIsoDates,
          ),
        ],
        [
          JSON.parse(await listTasks(db, query, paging)),
          objectAnswer(await listPage(db, taskList, query, paging), taskJson),
        ],
        [
          JSON.parse(await listServerRepoTasks(db, serverId, serverRepo.repo_id, query, paging)),
          objectAnswer(
            await listPage(db, serverRepoTaskList, query, paging, [
              sql`${pulp_server_repo_tasks.pulp_server_repo_id} = ${serverRepo.id}`,
            ]),
            taskJson,
          ),
        ],
      ];
      for (const [i, [fromDatabase, fromObjects]] of pairs.entries()) {
        // total_as_of is when each path counted: the only field allowed to differ.
        const strip = (page: unknown) => ({ ...(page as object), total_as_of: undefined });
        expect(strip(fromDatabase)).toStrictEqual(strip(fromObjects));
        const { items, total } = fromDatabase as { items: unknown[]; total: number };
        expect(total).toBe(rowCounts[i]);
        expect(items).toHaveLength(query.page_size === undefined ? total : 2);
      }
    }
  });

  it('inlines JSON columns as stored because MariaDB refuses text that is not JSON in them', async () => {
    const { db } = database;
    // ER_CONSTRAINT_FAILED: the CHECK (json_valid(…)) MariaDB adds to every JSON column.
    const refusal = (statement: Promise<unknown>) =>
      statement.then(
        () => 'accepted',
        (err: unknown) => mysqlErrorNumber(err),
      );
    expect(
      await refusal(
        db.execute(
          sql`INSERT INTO tasks (name, task_type, state, task_args, date_queued) VALUES ('bad', 'repo_sync', 'failed', '{not json', UTC_TIMESTAMP(3))`,
        ),
      ),
    ).toBe(4025);
    expect(await refusal(db.execute(sql`UPDATE tasks SET error = 'nope' WHERE name = 'migrated'`))).toBe(
      4025,
    );
  });
});
