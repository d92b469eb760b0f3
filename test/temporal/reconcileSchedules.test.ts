import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { Client, Connection, ScheduleOverlapPolicy } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseIniConfig } from '../../config/loadAppConfig.js';
import { parsePulpConfig } from '../../config/loadPulpConfig.js';
import { desiredSchedules } from '../../temporal/desiredSchedules.js';
import { SWEEP_STALE_TASKS_SCHEDULE_ID } from '../../temporal/names.js';
import { applySchedulePlan, planIsEmpty, planSchedules } from '../../temporal/reconcileSchedules.js';
import { eventually } from '../support/eventually.js';
import { stack } from '../support/stack.js';

// Real Temporal dev server, in a namespace of its own: applying a config deletes every managed
// schedule the config does not name, and the demo's live in `default`.
const run = randomBytes(3).toString('hex');
const primary = `p-${run}.example.com`;
const secondary = `s-${run}.example.com:8443`;

function fleetYaml(opts: { extCron?: string; withInternal?: boolean; withSecondary?: boolean } = {}) {
  const { extCron = '0 0 * * *', withInternal = true, withSecondary = true } = opts;
  return `
pulp_servers:
  ${primary}:
    credentials: example
    repo_config_registration:
      schedule: "*/15 * * * *"
      max_runtime: "20m"
    repo_groups:
      external_repos:
        schedule: "${extCron}"
        max_concurrent_syncs: 2
        max_runtime: "6h"
${withInternal ? '      internal_repos:\n        schedule: "30 1 * * *"\n        max_concurrent_syncs: 1\n        max_runtime: 300\n' : ''}
${withSecondary ? `  ${secondary}:\n    credentials: example\n    repo_groups:\n      external_repos:\n        schedule: "0 6 * * *"\n        max_concurrent_syncs: 3\n        max_runtime: "1d"\n        pulp_master: ${primary}\n` : ''}
credentials:
  example:
    username: svc
    vault_service_account_mount: service-accounts
repo_groups:
  external_repos:
    regex_include: ^ext-
  internal_repos:
    regex_include: ^int-
    regex_exclude: -old$
`;
}

const ini = parseIniConfig('[temporal]\ntask_queue=pm-test\nschedule_catchup_window=5m\n', 'config.ini');
const desired = (yaml: string) => desiredSchedules(parsePulpConfig(yaml, 'pulp_config.yml'), ini);

describe('schedule reconcile against the real Temporal server', () => {
  let client: Client;

  beforeAll(async () => {
    const connection = await Connection.connect({ address: stack.temporal.address });
    client = new Client({ connection, namespace: stack.temporal.testNamespace });
  });

  afterAll(async () => {
    // Leave the namespace as found: remove this run's schedules.
    await applySchedulePlan(client, await planSchedules(client, []));
    await client?.connection.close();
  });

  async function apply(yaml: string) {
    const plan = await planSchedules(client, desired(yaml));
    await applySchedulePlan(client, plan);
    return plan;
  }

  it('creates one schedule per scheduled group and per registration, with skip overlap and a timeout', async () => {
    const plan = await apply(fleetYaml());
    // The sweeper's id is fixed: a run that died before its cleanup may have left it behind.
    const sweeper = (ids: string[]) => ids.filter((id) => id === SWEEP_STALE_TASKS_SCHEDULE_ID);
    const ofThisRun = (ids: string[]) => ids.filter((id) => id !== SWEEP_STALE_TASKS_SCHEDULE_ID);
    expect(ofThisRun(plan.create.map((d) => d.scheduleId)).sort()).toEqual(
      [
        `repo-group-sync/${primary}/external_repos`,
        `repo-group-sync/${primary}/internal_repos`,
        `repo-group-sync/${secondary}/external_repos`,
        `repo-registration/${primary}`,
      ].sort(),
    );
    expect(
      sweeper([
        ...plan.create.map((d) => d.scheduleId),
        ...plan.update.map((d) => d.scheduleId),
        ...plan.unchanged,
      ]),
    ).toEqual([SWEEP_STALE_TASKS_SCHEDULE_ID]);

    const desc = await client.schedule.getHandle(`repo-group-sync/${secondary}/external_repos`).describe();
    expect(desc.policies.overlap).toBe(ScheduleOverlapPolicy.SKIP);
    expect(desc.policies.catchupWindow).toBe(5 * 60 * 1000);
    expect(desc.spec.calendars).toHaveLength(1);
    expect(desc.spec.calendars?.[0]?.hour).toEqual([{ start: 6, end: 6, step: 1 }]);
    expect(desc.action.type).toBe('startWorkflow');
    if (desc.action.type !== 'startWorkflow') throw new Error('unreachable');
    expect(desc.action.workflowType).toBe('repoGroupSyncWorkflow');
    expect(desc.action.taskQueue).toBe('pm-test');
    // 1d of max_runtime plus the 15 min backstop margin
    expect(desc.action.workflowExecutionTimeout).toBe((86400 + 900) * 1000);
    expect(desc.action.args).toEqual([
      {
        server: secondary,
        repoGroup: 'external_repos',
        regexInclude: '^ext-',
        maxConcurrentSyncs: 3,
        maxRuntimeSeconds: 86400,
        sourceServer: primary,
        debPublishMode: 'resign',
      },
    ]);
  });

  it('the stale-task sweeper is a managed schedule whatever the fleet: every 10 minutes, skip overlap', async () => {
    const desc = await client.schedule.getHandle(SWEEP_STALE_TASKS_SCHEDULE_ID).describe();
    expect(desc.memo).toEqual({ managedBy: 'pulp-manager' });
    expect(desc.policies.overlap).toBe(ScheduleOverlapPolicy.SKIP);
    expect(desc.spec.calendars).toHaveLength(1);
    expect(desc.spec.calendars?.[0]?.minute).toEqual([{ start: 0, end: 59, step: 10 }]);
    if (desc.action.type !== 'startWorkflow')
      throw new Error('the sweeper schedule does not start a workflow');
    expect(desc.action.workflowType).toBe('sweepStaleTasksWorkflow');
    expect(desc.action.taskQueue).toBe('pm-test');
    expect(desc.action.workflowExecutionTimeout).toBe(15 * 60 * 1000);
    expect(desc.action.args).toEqual([{ staleAfterSeconds: 600, pageSize: 100, maxPages: 10 }]);
    // With no server at all it is still wanted; the per-server schedules are not.
    const empty = await planSchedules(
      client,
      desired('pulp_servers: {}\ncredentials: {}\nrepo_groups: {}\n'),
    );
    expect(empty.unchanged).toEqual([SWEEP_STALE_TASKS_SCHEDULE_ID]);
    expect(empty.remove).not.toContain(SWEEP_STALE_TASKS_SCHEDULE_ID);
  });

  it('a second apply changes nothing (the dry-run plan is empty)', async () => {
    const plan = await planSchedules(client, desired(fleetYaml()));
    expect(planIsEmpty(plan)).toBe(true);
    expect(plan.unchanged).toHaveLength(5);
  });

  it('an edited cron updates the schedule in place, keeping an operator pause', async () => {
    const id = `repo-group-sync/${primary}/external_repos`;
    await client.schedule.getHandle(id).pause('paused by operator');
    const plan = await apply(fleetYaml({ extCron: '45 3 * * *' }));
    expect(plan.update.map((d) => d.scheduleId)).toEqual([id]);
    const desc = await client.schedule.getHandle(id).describe();
    // The whole spec is rebuilt: the old calendar (0 0) is gone, not merged.
    expect(desc.spec.calendars).toHaveLength(1);
    expect(desc.spec.calendars?.[0]?.hour).toEqual([{ start: 3, end: 3, step: 1 }]);
    expect(desc.spec.calendars?.[0]?.minute).toEqual([{ start: 45, end: 45, step: 1 }]);
    expect(desc.state.paused).toBe(true);
    expect(desc.state.note).toBe('paused by operator');
  });

  it('removing a group and then a server deletes their schedules, visible to `temporal schedule list`', async () => {
    await eventually(async () => {
      const plan = await apply(fleetYaml({ extCron: '45 3 * * *', withInternal: false }));
      expect(plan.remove).toEqual([`repo-group-sync/${primary}/internal_repos`]);
    });
    await eventually(async () => {
      const plan = await apply(
        fleetYaml({ extCron: '45 3 * * *', withInternal: false, withSecondary: false }),
      );
      expect(plan.remove).toEqual([`repo-group-sync/${secondary}/external_repos`]);
    });
    const { stdout } = await promisify(execFile)(stack.temporal.bin, [
      'schedule',
      'list',
      '--address',
      stack.temporal.address,
      '--namespace',
      stack.temporal.testNamespace,
      '-o',
      'json',
    ]);
    const ids = (JSON.parse(stdout) as { scheduleId: string }[]).map((s) => s.scheduleId);
    expect(ids).toContain(`repo-group-sync/${primary}/external_repos`);
    expect(ids).toContain(`repo-registration/${primary}`);
    expect(ids).not.toContain(`repo-group-sync/${secondary}/external_repos`);
  });

  it('never touches schedules it did not create, even with a managed-looking id', async () => {
    const foreignIds = [`ops-${run}/nightly-report`, `repo-group-sync/${primary}/internal_repos`];
    for (const scheduleId of foreignIds) {
      await client.schedule.create({
        scheduleId,
        spec: { cronExpressions: ['0 12 * * *'] },
        action: { type: 'startWorkflow', workflowType: 'somethingElse', taskQueue: 'ops', args: [] },
      });
    }
    // The config asks for internal_repos again: the hand-made schedule with that id is a conflict.
    const plan = await apply(fleetYaml({ extCron: '45 3 * * *', withSecondary: false }));
    expect(plan.conflicts).toEqual([`repo-group-sync/${primary}/internal_repos`]);
    const dropped = await apply(
      fleetYaml({ extCron: '45 3 * * *', withInternal: false, withSecondary: false }),
    );
    expect(dropped.remove).toEqual([]);
    for (const scheduleId of foreignIds) {
      const desc = await client.schedule.getHandle(scheduleId).describe();
      expect(desc.action.type === 'startWorkflow' && desc.action.workflowType).toBe('somethingElse');
      await client.schedule.getHandle(scheduleId).delete();
    }
  });
});
