import { randomUUID } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { pulp_servers, task_stages, tasks } from '../../db/schema.js';
import {
  closeOrphanedTask,
  listStaleOpenTasks,
  type NewTaskRecord,
  upsertStage,
  upsertTaskForRun,
} from '../../db/taskRecords.js';
import { useMigratedDatabase } from './throwawayDatabase.js';

// Real MariaDB: the unique key and ON DUPLICATE KEY UPDATE are what make the writes idempotent.
// More connections than the default so that concurrent upserts really overlap.
const scratch = useMigratedDatabase({ connectionLimit: 20 });

beforeAll(async () => {
  await scratch.db.insert(pulp_servers).values({ name: 'pulp.example.com', username: 'svc' });
});

function run(overrides: Partial<NewTaskRecord> = {}): NewTaskRecord {
  return {
    name: 'repo sync ext-a on pulp.example.com',
    taskType: 'repo_sync',
    state: 'running',
    serverName: 'pulp.example.com',
    args: { repo: 'ext-a' },
    workflowId: `repo-sync/pulp.example.com/ext-a`,
    runId: randomUUID(),
    workerName: 'test',
    ...overrides,
  };
}

const rowsOfRun = (workflowId: string, runId: string) =>
  scratch.db
    .select()
    .from(tasks)
    .where(eq(tasks.workflow_id, workflowId))
    .then((rows) => rows.filter((r) => r.run_id === runId));

describe('upsertTaskForRun', () => {
  it('creates the row of a run with its server, and a retry returns the same id', async () => {
    const r = run();
    const first = await upsertTaskForRun(scratch.db, r);
    const again = await upsertTaskForRun(scratch.db, r);
    expect(again).toBe(first);
    const rows = await rowsOfRun(r.workflowId, r.runId);
    expect(rows.map((t) => t.id)).toEqual([first]);
    const [server] = await scratch.db
      .select()
      .from(pulp_servers)
      .where(eq(pulp_servers.name, 'pulp.example.com'));
    expect(rows[0]).toMatchObject({ state: 'running', pulp_server_id: server?.id, task_type: 'repo_sync' });
  });

  it('twenty concurrent attempts of one run make one row and all get its id', async () => {
    const r = run();
    const ids = await Promise.all(Array.from({ length: 20 }, () => upsertTaskForRun(scratch.db, r)));
    const rows = await rowsOfRun(r.workflowId, r.runId);
    expect(rows).toHaveLength(1);
    expect(new Set(ids)).toEqual(new Set([rows[0]?.id]));
  });

  it('another run or another task type of the same workflow id is another row', async () => {
    const r = run();
    const a = await upsertTaskForRun(scratch.db, r);
    const b = await upsertTaskForRun(scratch.db, { ...r, runId: randomUUID() });
    const c = await upsertTaskForRun(scratch.db, { ...r, taskType: 'repo_snapshot' });
    expect(new Set([a, b, c]).size).toBe(3);
  });

  it('a server name the database does not know leaves pulp_server_id NULL', async () => {
    const r = run({ serverName: 'unknown.example.com' });
    const id = await upsertTaskForRun(scratch.db, r);
    const [row] = await scratch.db.select().from(tasks).where(eq(tasks.id, id));
    expect(row?.pulp_server_id).toBeNull();
  });

  it("the API's queued rows (run id not known yet) never collide with each other", async () => {
    const workflowId = `repo-group-sync/pulp.example.com/api-${randomUUID()}`;
    const queued = { name: 'q', task_type: 'repo_group_sync' as const, state: 'queued' as const };
    const values = { ...queued, task_args: {}, date_queued: new Date(), workflow_id: workflowId };
    await scratch.db.insert(tasks).values([values, values]);
    await scratch.db.insert(tasks).values({ ...values, workflow_id: null });
    await scratch.db.insert(tasks).values({ ...values, workflow_id: null });
    expect(await scratch.db.select().from(tasks).where(eq(tasks.workflow_id, workflowId))).toHaveLength(2);
  });
});

describe('listStaleOpenTasks / closeOrphanedTask', () => {
  it('pages through open tasks queued before the cutoff, in id order', async () => {
    const old = new Date(Date.now() - 3600_000);
    const base = { name: 'stale', task_type: 'repo_sync' as const, task_args: {}, date_queued: old };
    const ids: number[] = [];
    for (const state of ['running', 'queued', 'completed', 'running'] as const) {
      const [res] = await scratch.db
        .insert(tasks)
        .values({ ...base, state, workflow_id: `wf-${randomUUID()}` });
      ids.push(res.insertId);
    }
    const cutoff = new Date(Date.now() - 60_000);
    const open = (
      await listStaleOpenTasks(scratch.db, { queuedBefore: cutoff, afterId: 0, limit: 1000 })
    ).filter((r) => ids.includes(r.id));
    expect(open.map((r) => r.id)).toEqual([ids[0], ids[1], ids[3]]);
    const page = await listStaleOpenTasks(scratch.db, {
      queuedBefore: cutoff,
      afterId: ids[1] ?? 0,
      limit: 1,
    });
    expect(page.map((r) => r.id)).toEqual([ids[3]]);
    // Only rows queued strictly before the cutoff are candidates.
    const recent = await listStaleOpenTasks(scratch.db, { queuedBefore: old, afterId: 0, limit: 1000 });
    expect(recent).toEqual([]);
  });

  it('closes the task and its running stages once; finished stages keep their state', async () => {
    const id = await upsertTaskForRun(scratch.db, run());
    await upsertStage(scratch.db, {
      taskId: id,
      position: 0,
      name: 'sync repo',
      detail: { state: 'completed' },
    });
    await upsertStage(scratch.db, {
      taskId: id,
      position: 1,
      name: 'publish repo',
      detail: { state: 'running', n: 3 },
    });
    const error = { msg: 'workflow execution TERMINATED; closed by the sweeper', detail: { run_id: 'r' } };
    expect(await closeOrphanedTask(scratch.db, id, 'failed', error)).toBe(true);
    expect(await closeOrphanedTask(scratch.db, id, 'canceled', { msg: 'again' })).toBe(false);
    const [task] = await scratch.db.select().from(tasks).where(eq(tasks.id, id));
    expect(task).toMatchObject({ state: 'failed', error });
    expect(task?.date_finished).not.toBeNull();
    const stages = await scratch.db.select().from(task_stages).where(eq(task_stages.task_id, id));
    expect(stages.map((s) => [s.position, s.detail, s.error]).sort()).toEqual([
      [0, { state: 'completed' }, null],
      [1, { state: 'failed', n: 3 }, error],
    ]);
  });
});
