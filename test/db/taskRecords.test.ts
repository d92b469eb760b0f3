import { randomUUID } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeDatabase, createDatabase, type Database } from '../../db/client.js';
import { migrateDatabase } from '../../db/migrate.js';
import { pulp_servers, tasks } from '../../db/schema.js';
import { type NewTaskRecord, upsertTaskForRun } from '../../db/taskRecords.js';
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
