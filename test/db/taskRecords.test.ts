import { randomUUID } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeDatabase, createDatabase, type Database } from '../../db/client.js';
import { migrateDatabase } from '../../db/migrate.js';
import { pulp_servers, task_stages, tasks } from '../../db/schema.js';
import {
  closeOrphanedTask,
  listStaleOpenTasks,
  type NewTaskRecord,
  upsertStage,
  upsertTaskForRun,
} from '../../db/taskRecords.js';
import { createThrowawayDatabase, type ThrowawayDatabase } from './throwawayDatabase.js';

// Real MariaDB: the unique key and ON DUPLICATE KEY UPDATE are what make the writes idempotent.
let scratch: ThrowawayDatabase;
let db: Database;

beforeAll(async () => {
  scratch = await createThrowawayDatabase();
  await migrateDatabase(scratch.settings);
  // More connections than the default so that concurrent upserts really overlap.
  db = createDatabase({ ...scratch.settings, connectionLimit: 20 });
  await db.insert(pulp_servers).values({ name: 'pulp.example.com', username: 'svc' });
});

afterAll(async () => {
  if (db !== undefined) await closeDatabase(db);
  await scratch?.drop();
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
  db
    .select()
    .from(tasks)
    .where(eq(tasks.workflow_id, workflowId))
    .then((rows) => rows.filter((r) => r.run_id === runId));

describe('upsertTaskForRun', () => {
  it('creates the row of a run with its server, and a retry returns the same id', async () => {
    const r = run();
    const first = await upsertTaskForRun(db, r);
    const again = await upsertTaskForRun(db, r);
    expect(again).toBe(first);
    const rows = await rowsOfRun(r.workflowId, r.runId);
    expect(rows.map((t) => t.id)).toEqual([first]);
    const [server] = await db.select().from(pulp_servers).where(eq(pulp_servers.name, 'pulp.example.com'));
    expect(rows[0]).toMatchObject({ state: 'running', pulp_server_id: server?.id, task_type: 'repo_sync' });
  });

  it('twenty concurrent attempts of one run make one row and all get its id', async () => {
    const r = run();
    const ids = await Promise.all(Array.from({ length: 20 }, () => upsertTaskForRun(db, r)));
    const rows = await rowsOfRun(r.workflowId, r.runId);
    expect(rows).toHaveLength(1);
    expect(new Set(ids)).toEqual(new Set([rows[0]?.id]));
  });

  it('another run or another task type of the same workflow id is another row', async () => {
    const r = run();
    const a = await upsertTaskForRun(db, r);
    const b = await upsertTaskForRun(db, { ...r, runId: randomUUID() });
    const c = await upsertTaskForRun(db, { ...r, taskType: 'repo_snapshot' });
    expect(new Set([a, b, c]).size).toBe(3);
  });

  it('a server name the database does not know leaves pulp_server_id NULL', async () => {
    const r = run({ serverName: 'unknown.example.com' });
    const id = await upsertTaskForRun(db, r);
    const [row] = await db.select().from(tasks).where(eq(tasks.id, id));
    expect(row?.pulp_server_id).toBeNull();
  });

  it("the API's queued rows (run id not known yet) never collide with each other", async () => {
    const workflowId = `repo-group-sync/pulp.example.com/api-${randomUUID()}`;
    const queued = { name: 'q', task_type: 'repo_group_sync' as const, state: 'queued' as const };
    const values = { ...queued, task_args: {}, date_queued: new Date(), workflow_id: workflowId };
    await db.insert(tasks).values([values, values]);
    await db.insert(tasks).values({ ...values, workflow_id: null });
    await db.insert(tasks).values({ ...values, workflow_id: null });
    expect(await db.select().from(tasks).where(eq(tasks.workflow_id, workflowId))).toHaveLength(2);
  });
});

describe('listStaleOpenTasks / closeOrphanedTask', () => {
  it('pages through open tasks queued before the cutoff, in id order', async () => {
    const old = new Date(Date.now() - 3600_000);
    const base = { name: 'stale', task_type: 'repo_sync' as const, task_args: {}, date_queued: old };
    const ids: number[] = [];
    for (const state of ['running', 'queued', 'completed', 'running'] as const) {
      const [res] = await db.insert(tasks).values({ ...base, state, workflow_id: `wf-${randomUUID()}` });
      ids.push(res.insertId);
    }
    const cutoff = new Date(Date.now() - 60_000);
    const open = (await listStaleOpenTasks(db, { queuedBefore: cutoff, afterId: 0, limit: 1000 })).filter(
      (r) => ids.includes(r.id),
    );
    expect(open.map((r) => r.id)).toEqual([ids[0], ids[1], ids[3]]);
    const page = await listStaleOpenTasks(db, { queuedBefore: cutoff, afterId: ids[1] ?? 0, limit: 1 });
    expect(page.map((r) => r.id)).toEqual([ids[3]]);
    // Only rows queued strictly before the cutoff are candidates.
    const recent = await listStaleOpenTasks(db, { queuedBefore: old, afterId: 0, limit: 1000 });
    expect(recent).toEqual([]);
  });

  it('closes the task and its running stages once; finished stages keep their state', async () => {
    const id = await upsertTaskForRun(db, run());
    await upsertStage(db, { taskId: id, position: 0, name: 'sync repo', detail: { state: 'completed' } });
    await upsertStage(db, {
      taskId: id,
      position: 1,
      name: 'publish repo',
      detail: { state: 'running', n: 3 },
    });
    const error = { msg: 'workflow execution TERMINATED; closed by the sweeper', detail: { run_id: 'r' } };
    expect(await closeOrphanedTask(db, id, 'failed', error)).toBe(true);
    expect(await closeOrphanedTask(db, id, 'canceled', { msg: 'again' })).toBe(false);
    const [task] = await db.select().from(tasks).where(eq(tasks.id, id));
    expect(task).toMatchObject({ state: 'failed', error });
    expect(task?.date_finished).not.toBeNull();
    const stages = await db.select().from(task_stages).where(eq(task_stages.task_id, id));
    expect(stages.map((s) => [s.position, s.detail, s.error]).sort()).toEqual([
      [0, { state: 'completed' }, null],
      [1, { state: 'failed', n: 3 }, error],
    ]);
  });
});
