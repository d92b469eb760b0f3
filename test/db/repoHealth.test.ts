import { randomBytes } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import type { RepoHealthStatus, TaskState, TaskType } from '../../db/enums.js';
import { pulp_server_repos, pulp_servers, repos, tasks } from '../../db/schema.js';
import { updateRepoHealth } from '../../db/serverRepoQueries.js';
import { linkTaskToServerRepo } from '../../db/taskRecords.js';
import { useMigratedDatabase } from './throwawayDatabase.js';

/**
 * The health rule (SPEC: group sync step 5, the original's _calculate_repo_health) on real
 * MariaDB: from a repo's last 5 finished sync tasks, the latest completed → green; else ≤ 3
 * failures and ≥ 1 success → amber; else red. Any state other than completed counts as a
 * failure, as in the original (canceled and skipped included). Each case pins one edge so that
 * an off-by-one in the window or the failure limit, or a state counted the wrong way, fails.
 */
const scratch = useMigratedDatabase();

const unique = () => randomBytes(4).toString('hex');

async function newServer(): Promise<number> {
  const [r] = await scratch.db
    .insert(pulp_servers)
    .values({ name: `pulp-${unique()}.example.com`, username: 'svc' });
  return r.insertId;
}

async function newServerRepo(serverId: number): Promise<number> {
  const [repo] = await scratch.db.insert(repos).values({ name: `ext-${unique()}`, repo_type: 'rpm' });
  const [sr] = await scratch.db.insert(pulp_server_repos).values({
    pulp_server_id: serverId,
    repo_id: repo.insertId,
    repo_href: `/pulp/api/v3/repositories/rpm/rpm/${unique()}/`,
  });
  return sr.insertId;
}

/** Queue times: every task this file makes is queued a minute after the one before. */
let clock = Date.UTC(2026, 0, 1);

/** Links tasks of these states to the server repo, oldest first. */
async function history(serverRepoId: number, states: readonly TaskState[], taskType: TaskType = 'repo_sync') {
  for (const [i, state] of states.entries()) {
    clock += 60_000;
    const [t] = await scratch.db.insert(tasks).values({
      name: `repo sync ${serverRepoId} #${i}`,
      task_type: taskType,
      state,
      task_args: {},
      date_queued: new Date(clock),
    });
    await linkTaskToServerRepo(scratch.db, t.insertId, serverRepoId);
  }
}

async function healthOf(serverRepoId: number): Promise<RepoHealthStatus | null> {
  const [row] = await scratch.db
    .select({ health: pulp_server_repos.repo_sync_health })
    .from(pulp_server_repos)
    .where(eq(pulp_server_repos.id, serverRepoId));
  return row?.health ?? null;
}

/** The health one repo on a server of its own gets from this history (oldest first). */
async function healthAfter(states: readonly TaskState[]): Promise<RepoHealthStatus | null> {
  const serverId = await newServer();
  const id = await newServerRepo(serverId);
  await history(id, states);
  await updateRepoHealth(scratch.db, serverId, [id]);
  return healthOf(id);
}

describe('repo sync health (updateRepoHealth, real MariaDB)', () => {
  it('recovers to green as soon as the latest sync completes, whatever failed before it', async () => {
    expect(await healthAfter(['failed', 'failed', 'failed', 'failed', 'completed'])).toBe('green');
    expect(await healthAfter(['completed', 'failed'])).toBe('amber');
    expect(await healthAfter(['completed', 'failed', 'completed'])).toBe('green');
  });

  it('3 failures with a success in the window is amber, 4 is red', async () => {
    expect(await healthAfter(['completed', 'completed', 'failed', 'failed', 'failed'])).toBe('amber');
    expect(await healthAfter(['completed', 'failed', 'failed', 'failed', 'failed'])).toBe('red');
  });

  it('no success in the window is red, even with fewer than 3 failures', async () => {
    expect(await healthAfter(['failed'])).toBe('red');
    expect(await healthAfter(['failed', 'failed'])).toBe('red');
  });

  it('looks at exactly the last 5 finished syncs', async () => {
    // A window of 6 would see 4 failures (red); 5 sees 2 successes and 3 failures.
    expect(await healthAfter(['failed', 'completed', 'completed', 'failed', 'failed', 'failed'])).toBe(
      'amber',
    );
    // A window of 4 would see 1 success and 3 failures (amber); 5 sees 4 failures.
    expect(await healthAfter(['failed', 'completed', 'failed', 'failed', 'failed'])).toBe('red');
    // The only success is 6th from the latest: outside the window.
    expect(await healthAfter(['completed', 'failed', 'failed', 'failed', 'failed', 'failed'])).toBe('red');
  });

  it('counts canceled, skipped and failed_to_start syncs as failures, as the original did', async () => {
    expect(await healthAfter(['completed', 'canceled'])).toBe('amber');
    expect(await healthAfter(['completed', 'skipped'])).toBe('amber');
    expect(await healthAfter(['completed', 'failed_to_start'])).toBe('amber');
    expect(await healthAfter(['completed', 'canceled', 'skipped', 'failed', 'canceled'])).toBe('red');
  });

  it('ignores syncs still queued or running, and tasks that are not repo syncs', async () => {
    expect(await healthAfter(['completed', 'running'])).toBe('green');
    expect(await healthAfter(['completed', 'queued'])).toBe('green');
    const serverId = await newServer();
    const id = await newServerRepo(serverId);
    await history(id, ['completed']);
    // A later group sync or removal linked to the repo is not one of its syncs.
    await history(id, ['failed'], 'repo_group_sync');
    await history(id, ['failed'], 'remove_repo_content');
    await updateRepoHealth(scratch.db, serverId, [id]);
    expect(await healthOf(id)).toBe('green');
  });

  it('orders by queue time, then by task id for syncs queued at the same instant', async () => {
    const serverId = await newServer();
    const id = await newServerRepo(serverId);
    clock += 60_000;
    const at = new Date(clock);
    for (const state of ['failed', 'completed'] as const) {
      const [t] = await scratch.db.insert(tasks).values({
        name: `same instant ${state}`,
        task_type: 'repo_sync',
        state,
        task_args: {},
        date_queued: at,
      });
      await linkTaskToServerRepo(scratch.db, t.insertId, id);
    }
    await updateRepoHealth(scratch.db, serverId, [id]);
    expect(await healthOf(id)).toBe('green');
  });

  it('updates only the repos it is given; a repo with no finished sync keeps no health', async () => {
    const serverId = await newServer();
    const a = await newServerRepo(serverId);
    const b = await newServerRepo(serverId);
    const never = await newServerRepo(serverId);
    await history(a, ['failed']);
    await history(b, ['failed']);
    await history(never, ['running']);
    await updateRepoHealth(scratch.db, serverId, [a, never]);
    expect(await healthOf(a)).toBe('red');
    expect(await healthOf(b)).toBeNull();
    expect(await healthOf(never)).toBeNull();
  });

  it('rolls up per server: any red → red, else any amber → amber, else green', async () => {
    const serverId = await newServer();
    const green = await newServerRepo(serverId);
    await history(green, ['completed']);
    expect(await updateRepoHealth(scratch.db, serverId, [green])).toBe('green');
    const amber = await newServerRepo(serverId);
    await history(amber, ['completed', 'failed']);
    expect(await updateRepoHealth(scratch.db, serverId, [amber])).toBe('amber');
    const red = await newServerRepo(serverId);
    await history(red, ['failed']);
    expect(await updateRepoHealth(scratch.db, serverId, [red])).toBe('red');
    // The red repo recovers: the rollup follows with no other repo updated.
    await history(red, ['completed']);
    expect(await updateRepoHealth(scratch.db, serverId, [red])).toBe('amber');
    await history(amber, ['completed']);
    expect(await updateRepoHealth(scratch.db, serverId, [amber])).toBe('green');
    const [row] = await scratch.db
      .select({
        rollup: pulp_servers.repo_sync_health_rollup,
        date: pulp_servers.repo_sync_health_rollup_date,
      })
      .from(pulp_servers)
      .where(eq(pulp_servers.id, serverId));
    expect(row).toMatchObject({ rollup: 'green' });
    expect(row?.date).toBeInstanceOf(Date);
    // Another server's red repo is not this server's.
    const other = await newServer();
    const otherRed = await newServerRepo(other);
    await history(otherRed, ['failed']);
    expect(await updateRepoHealth(scratch.db, other, [otherRed])).toBe('red');
    expect(await updateRepoHealth(scratch.db, serverId, [])).toBe('green');
  });
});
