import { Client, ScheduleOverlapPolicy } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  MANAGED_BY_MEMO,
  repoGroupSyncScheduleId,
  repoRegistrationScheduleId,
} from '../../temporal/names.js';
import { eventually } from '../support/eventually.js';
import { stack } from '../support/stack.js';
import {
  type ApiHarness,
  body,
  ensureNamespace,
  jsonRequest,
  startApiHarness,
} from './support/apiHarness.js';

// /v1/schedules against the real Temporal dev server, in a namespace of this file's own: nothing
// another file does (a config applied at start-up deletes every managed schedule it does not
// name) reaches its schedules. Schedules a killed run left behind may still be there, so the
// list is read page by page, never expected on page 1. The schedules are made here the way
// temporal/reconcileSchedules.ts makes them (managed memo, skip overlap); no worker runs, so a
// triggered run stays RUNNING and a second trigger is skipped as an overlap.

const NAMESPACE = `${stack.temporal.testNamespace}-api-schedules`;

type Schedule = {
  schedule_id: string;
  kind: string;
  pulp_server_name: string;
  repo_group: string | null;
  paused: boolean;
  note: string | null;
  overlap_policy: string;
  next_action_times: string[];
  recent_actions: { workflow_id: string }[];
  running_workflows: { workflow_id: string }[];
  num_actions_taken: number;
  num_actions_skipped_overlap: number;
};

let h: ApiHarness;
/** The API over this file's namespace, and a client of that namespace. */
let app: ApiHarness['app'];
let temporal: Client;
let groupId: string;
let registrationId: string;
let unmanagedId: string;
let adminToken: string;

const path = (id: string, action = '') =>
  `/v1/schedules/${encodeURIComponent(id)}${action ? `/${action}` : ''}`;
/** `token: null` sends no token. */
const act = (id: string, action: string, payload?: unknown, token: string | null = adminToken) =>
  app.request(path(id, action), jsonRequest('POST', payload ?? {}, token ?? undefined));

async function createSchedule(scheduleId: string, managed: boolean): Promise<void> {
  await temporal.schedule.create({
    scheduleId,
    spec: { cronExpressions: ['0 1 * * *'] },
    action: {
      type: 'startWorkflow',
      workflowType: 'repoGroupSyncWorkflow',
      workflowId: scheduleId,
      taskQueue: h.taskQueue,
      args: [
        {
          server: h.seed.serverNames.alpha,
          maxConcurrentSyncs: 1,
          maxRuntimeSeconds: 60,
          debPublishMode: 'resign',
        },
      ],
    },
    policies: { overlap: ScheduleOverlapPolicy.SKIP },
    memo: managed ? { ...MANAGED_BY_MEMO } : { managedBy: 'someone-else' },
  });
}

beforeAll(async () => {
  h = await startApiHarness();
  await ensureNamespace(h.temporal.connection as Parameters<typeof ensureNamespace>[0], NAMESPACE);
  temporal = new Client({ connection: h.temporal.connection, namespace: NAMESPACE });
  app = h.appWith({ ini: { temporal: { namespace: NAMESPACE } }, deps: { temporal } });
  adminToken = await h.tokenFor('alice');
  groupId = repoGroupSyncScheduleId(h.seed.serverNames.alpha, `external_repos_${h.run}`);
  registrationId = repoRegistrationScheduleId(`reg-${h.run}.example.com`);
  unmanagedId = repoGroupSyncScheduleId(h.seed.serverNames.alpha, `manual_${h.run}`);
  await createSchedule(groupId, true);
  await createSchedule(registrationId, true);
  await createSchedule(unmanagedId, false);
}, 60_000);

afterAll(async () => {
  for (const id of [groupId, registrationId, unmanagedId]) {
    const handle = temporal.schedule.getHandle(id);
    const running = await handle.describe().then(
      (d) => d.info.runningActions,
      () => [],
    );
    for (const a of running) {
      await temporal.workflow
        .getHandle(a.workflow.workflowId)
        .terminate('api test cleanup')
        .catch(() => undefined);
    }
    await handle.delete().catch(() => undefined);
  }
  await h?.close();
});

describe('/v1/schedules', () => {
  it("lists only the project's schedules, paged", async () => {
    /** Every page in turn (page_size is capped at the harness's max_page_size, 5). */
    const allPages = async () => {
      const pages: { items: Schedule[]; total: number; page_size: number }[] = [];
      for (let n = 1; ; n++) {
        const p = await body<{ items: Schedule[]; total: number; page_size: number }>(
          await app.request(`/v1/schedules?page_size=100&page=${n}`),
        );
        pages.push(p);
        if (p.items.length === 0 || n * p.page_size >= p.total) return pages;
      }
    };
    const pages = await eventually(async () => {
      const ps = await allPages();
      const ids = ps.flatMap((p) => p.items.map((s) => s.schedule_id));
      expect(ids).toEqual(expect.arrayContaining([groupId, registrationId]));
      return ps;
    });
    for (const p of pages) expect(p.page_size).toBe(5); // [paging] max_page_size of the harness
    const items = pages.flatMap((p) => p.items);
    const ids = items.map((s) => s.schedule_id);
    // Pages do not overlap and together hold every schedule the total counts, in id order.
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toHaveLength(pages[0]?.total ?? -1);
    expect(ids).toEqual([...ids].sort());
    expect(ids).not.toContain(unmanagedId);
    const page = { items };
    const group = page.items.find((s) => s.schedule_id === groupId);
    expect(group).toMatchObject({
      kind: 'repo_group_sync',
      pulp_server_name: h.seed.serverNames.alpha,
      repo_group: `external_repos_${h.run}`,
      paused: false,
      overlap_policy: 'SKIP',
      num_actions_skipped_overlap: 0,
    });
    expect(group?.next_action_times.length).toBeGreaterThan(0);
    const registration = page.items.find((s) => s.schedule_id === registrationId);
    expect(registration).toMatchObject({ kind: 'repo_registration', repo_group: null });
  });

  it('describes one schedule by its URL-encoded id; 404 for unknown and unmanaged ones', async () => {
    const res = await app.request(path(groupId));
    expect(res.status).toBe(200);
    expect(await body(res)).toMatchObject({ schedule_id: groupId, workflow_type: 'repoGroupSyncWorkflow' });
    expect((await app.request(path(`repo-group-sync/none/${h.run}`))).status).toBe(404);
    const unmanaged = await app.request(path(unmanagedId));
    expect(unmanaged.status).toBe(404);
    expect((await act(unmanagedId, 'pause')).status).toBe(404);
  });

  it('triggers a run now; a trigger while it still runs is skipped and counted', async () => {
    const first = await act(groupId, 'trigger');
    expect(first.status).toBe(200);
    const running = await eventually(async () => {
      const s = await body<Schedule>(await app.request(path(groupId)));
      expect(s.running_workflows).toHaveLength(1);
      return s;
    });
    expect(running.recent_actions).toHaveLength(1);
    const run = running.running_workflows[0]?.workflow_id ?? '';
    expect(run.startsWith(`${groupId}-`)).toBe(true);
    expect((await temporal.workflow.getHandle(run).describe()).type).toBe('repoGroupSyncWorkflow');

    expect((await act(groupId, 'trigger')).status).toBe(200);
    await eventually(async () => {
      const s = await body<Schedule>(await app.request(path(groupId)));
      expect(s.num_actions_skipped_overlap).toBe(1);
      expect(s.running_workflows).toHaveLength(1);
    });
  });

  it('pauses with a note and unpauses', async () => {
    const paused = await act(registrationId, 'pause', { note: 'maintenance window' });
    expect(paused.status).toBe(200);
    expect(await body(paused)).toMatchObject({ paused: true, note: 'maintenance window' });
    const unpaused = await act(registrationId, 'unpause');
    expect(await body(unpaused)).toMatchObject({ paused: false, note: 'unpaused via the API by alice' });
    const desc = await temporal.schedule.getHandle(registrationId).describe();
    expect(desc.state.paused).toBe(false);
  });

  it('pausing, unpausing and triggering need an admin token', async () => {
    expect((await act(groupId, 'pause', {}, null)).status).toBe(401);
    expect((await act(groupId, 'trigger', {}, await h.tokenFor('bob'))).status).toBe(403);
    expect((await temporal.schedule.getHandle(groupId).describe()).state.paused).toBe(false);
  });
});
