import { eq, sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import {
  pulp_server_repo_groups,
  pulp_server_repo_tasks,
  pulp_server_repos,
  pulp_servers,
  repo_groups,
  repos,
  task_stages,
  tasks,
} from '../../db/schema.js';
import { findTaskWithStages } from '../../db/taskQueries.js';
import { linkTaskToServerRepo } from '../../db/taskRecords.js';
import { useMigratedDatabase } from './throwawayDatabase.js';

async function insertId(promise: Promise<[{ insertId: number }, unknown]>): Promise<number> {
  const [header] = await promise;
  return header.insertId;
}

describe('reporting schema on real MariaDB', () => {
  const scratch = useMigratedDatabase();

  it('keeps names unique case-sensitively, as Pulp does', async () => {
    await scratch.db.insert(repos).values([
      { name: 'ext-Foo', repo_type: 'rpm' },
      { name: 'ext-foo', repo_type: 'rpm' },
    ]);
    await expect(scratch.db.insert(repos).values({ name: 'ext-foo', repo_type: 'deb' })).rejects.toThrow();
    const found = await scratch.db.select({ name: repos.name }).from(repos).where(eq(repos.name, 'ext-foo'));
    expect(found).toEqual([{ name: 'ext-foo' }]);
  });

  it('round-trips JSON values and UTC dates to the millisecond', async () => {
    const queued = new Date('2025-06-30T23:59:58.123Z');
    const id = await insertId(
      scratch.db.insert(tasks).values({
        name: 'repo_sync ext-Foo',
        task_type: 'repo_sync',
        state: 'failed',
        task_args: { regex_include: '^ext-', sync_options: { mirror: true }, list: [1, 'two'] },
        date_queued: queued,
        error: { msg: 'Pulp task failed', detail: { pulp_error: 'Worker has gone missing' } },
      }),
    );
    const [row] = await scratch.db.select().from(tasks).where(eq(tasks.id, id));
    expect(row?.task_args).toEqual({
      regex_include: '^ext-',
      sync_options: { mirror: true },
      list: [1, 'two'],
    });
    expect(row?.error).toEqual({
      msg: 'Pulp task failed',
      detail: { pulp_error: 'Worker has gone missing' },
    });
    expect(row?.date_queued.toISOString()).toBe(queued.toISOString());
    // Defaults are UTC too, whatever the server's time zone.
    const [skew] = (await scratch.db.execute(
      sql`SELECT TIMESTAMPDIFF(SECOND, date_created, UTC_TIMESTAMP()) AS s FROM tasks WHERE id = ${id}`,
    )) as unknown as [{ s: number }[]];
    expect(Math.abs(Number(skew[0]?.s))).toBeLessThan(60);
  });

  it('orders stages by position and refuses a duplicate position (retried activities upsert)', async () => {
    const taskId = await insertId(
      scratch.db.insert(tasks).values({
        name: 'repo_sync ext-Bar',
        task_type: 'repo_sync',
        state: 'running',
        task_args: {},
        date_queued: new Date(),
      }),
    );
    await scratch.db.insert(task_stages).values([
      { task_id: taskId, position: 2, name: 'publish repo', detail: { publication: '/pub/1/' } },
      { task_id: taskId, position: 1, name: 'sync repo', detail: { task_href: '/tasks/1/' } },
    ]);
    await expect(
      scratch.db.insert(task_stages).values({ task_id: taskId, position: 1, name: 'sync repo' }),
    ).rejects.toThrow();
    const task = await findTaskWithStages(scratch.db, taskId);
    expect(task?.name).toBe('repo_sync ext-Bar');
    expect(await findTaskWithStages(scratch.db, 999_999)).toBeUndefined();
    expect(task?.stages.map((s) => [s.position, s.name, s.detail])).toEqual([
      [1, 'sync repo', { task_href: '/tasks/1/' }],
      [2, 'publish repo', { publication: '/pub/1/' }],
    ]);
  });

  it('deleting a server removes its links and server repos but keeps the tasks', async () => {
    const primary = await insertId(
      scratch.db.insert(pulp_servers).values({ name: 'primary.example.com', username: 'svc' }),
    );
    const secondary = await insertId(
      scratch.db.insert(pulp_servers).values({ name: 'secondary.example.com:8443', username: 'svc' }),
    );
    const group = await insertId(scratch.db.insert(repo_groups).values({ name: 'all', regex_include: '.*' }));
    await scratch.db.insert(pulp_server_repo_groups).values([
      { pulp_server_id: primary, repo_group_id: group, max_concurrent_syncs: 2, max_runtime: '6h' },
      {
        pulp_server_id: secondary,
        repo_group_id: group,
        max_concurrent_syncs: 2,
        max_runtime: '6h',
        pulp_master_id: primary,
      },
    ]);
    const repo = await insertId(scratch.db.insert(repos).values({ name: 'ext-baz', repo_type: 'deb' }));
    const serverRepo = await insertId(
      scratch.db
        .insert(pulp_server_repos)
        .values({ pulp_server_id: secondary, repo_id: repo, repo_href: '/repos/1/' }),
    );
    const task = await insertId(
      scratch.db.insert(tasks).values({
        name: 'repo_sync ext-baz on secondary',
        task_type: 'repo_sync',
        state: 'completed',
        task_args: {},
        date_queued: new Date(),
        pulp_server_id: secondary,
      }),
    );
    await linkTaskToServerRepo(scratch.db, task, serverRepo);

    // Still the primary of the secondary's group link: refused.
    await expect(scratch.db.delete(pulp_servers).where(eq(pulp_servers.id, primary))).rejects.toThrow();
    // A repo still on a server: refused.
    await expect(scratch.db.delete(repos).where(eq(repos.id, repo))).rejects.toThrow();

    await scratch.db.delete(pulp_servers).where(eq(pulp_servers.id, secondary));
    expect(
      await scratch.db
        .select()
        .from(pulp_server_repos)
        .where(eq(pulp_server_repos.pulp_server_id, secondary)),
    ).toEqual([]);
    expect(
      await scratch.db.select().from(pulp_server_repo_tasks).where(eq(pulp_server_repo_tasks.task_id, task)),
    ).toEqual([]);
    expect(
      await scratch.db
        .select()
        .from(pulp_server_repo_groups)
        .where(eq(pulp_server_repo_groups.pulp_server_id, secondary)),
    ).toEqual([]);
    const [kept] = await scratch.db.select().from(tasks).where(eq(tasks.id, task));
    expect(kept).toMatchObject({ id: task, state: 'completed', pulp_server_id: null });

    // No longer anyone's primary: now it can go.
    await scratch.db.delete(pulp_servers).where(eq(pulp_servers.id, primary));
  });

  it('deleting a task removes its stages and its child tasks', async () => {
    const parent = await insertId(
      scratch.db.insert(tasks).values({
        name: 'group',
        task_type: 'repo_group_sync',
        state: 'completed',
        task_args: {},
        date_queued: new Date(),
      }),
    );
    const child = await insertId(
      scratch.db.insert(tasks).values({
        name: 'child',
        task_type: 'repo_sync',
        state: 'completed',
        task_args: {},
        date_queued: new Date(),
        parent_task_id: parent,
      }),
    );
    await scratch.db.insert(task_stages).values({ task_id: child, position: 1, name: 'sync repo' });
    await scratch.db.delete(tasks).where(eq(tasks.id, parent));
    expect(await scratch.db.select().from(tasks).where(eq(tasks.id, child))).toEqual([]);
    expect(await scratch.db.select().from(task_stages).where(eq(task_stages.task_id, child))).toEqual([]);
  });
});
