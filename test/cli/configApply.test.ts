import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { ScheduleNotFoundError } from '@temporalio/client';
import { eq } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { committedMigrationTags } from '../../db/migrate.js';
import { pulp_server_repo_groups, pulp_servers, repo_groups } from '../../db/schema.js';
import { SWEEP_STALE_TASKS_SCHEDULE_ID } from '../../temporal/names.js';
import { useCliSandbox } from '../support/cliSandbox.js';

// `pulp-manager` as an operator runs it (a real process), against a throwaway database and a
// Temporal namespace of its own (config apply deletes every managed schedule it does not name).
const sh = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));
const namespace = 'pulp-manager-test-cli';
const run = randomBytes(3).toString('hex');
const primary = `p-${run}.example.com`;
const secondary = `s-${run}.example.com`;

function fleet(opts: { cron?: string; internal?: boolean; secondary?: boolean } = {}) {
  const { cron = '0 0 * * *', internal = true, secondary: withSecondary = true } = opts;
  return [
    'pulp_servers:',
    `  ${primary}:`,
    '    credentials: svc',
    '    repo_groups:',
    '      external_repos:',
    `        schedule: "${cron}"`,
    '        max_concurrent_syncs: 2',
    '        max_runtime: "6h"',
    ...(internal
      ? [
          '      internal_repos:',
          '        schedule: "30 1 * * *"',
          '        max_concurrent_syncs: 1',
          '        max_runtime: 300',
        ]
      : []),
    ...(withSecondary
      ? [
          `  ${secondary}:`,
          '    credentials: svc',
          '    repo_groups:',
          '      external_repos:',
          '        schedule: "0 6 * * *"',
          '        max_concurrent_syncs: 1',
          '        max_runtime: "1d"',
          `        pulp_master: ${primary}`,
        ]
      : []),
    'credentials:',
    '  svc:',
    '    username: svc-pulp',
    '    vault_service_account_mount: service-accounts',
    'repo_groups:',
    '  external_repos:',
    '    regex_include: ^ext-',
    '  internal_repos:',
    '    regex_include: ^int-',
    '',
  ].join('\n');
}

describe('pulp-manager migrate / config validate / config apply', () => {
  const sandbox = useCliSandbox({ namespace, fleet: fleet() });

  const cli = async (...args: string[]) => {
    try {
      const { stdout } = await sh('npx', ['tsx', 'cli/main.ts', ...args], { cwd: root, env: sandbox.env });
      return { code: 0, out: stdout };
    } catch (err) {
      const e = err as { code: number; stdout: string; stderr: string };
      return { code: e.code, out: `${e.stdout}${e.stderr}` };
    }
  };
  const scheduleCron = async (id: string) => {
    const desc = await sandbox.temporal.schedule.getHandle(id).describe();
    const c = desc.spec.calendars?.[0];
    return `${c?.minute?.[0]?.start} ${c?.hour?.[0]?.start}`;
  };

  afterAll(async () => {
    if (sandbox.ready) {
      await sandbox.writeFleet('pulp_servers: {}\ncredentials: {}\nrepo_groups: {}\n');
      await cli('config', 'apply');
      // Every config keeps the sweeper; no worker polls this namespace to run it.
      await sandbox.temporal.schedule
        .getHandle(SWEEP_STALE_TASKS_SCHEDULE_ID)
        .delete()
        .catch((err: unknown) => {
          if (!(err instanceof ScheduleNotFoundError)) throw err;
        });
    }
  });

  it('refuses to apply to an unmigrated database, then migrates once', async () => {
    const refused = await cli('config', 'apply');
    expect(refused.code).toBe(1);
    expect(refused.out).toContain(
      `DB_NOT_MIGRATED: database ${sandbox.settings.database} is not migrated: run \`pulp-manager migrate\``,
    );
    const tags = committedMigrationTags();
    expect((await cli('migrate')).out).toContain(
      `applied ${tags.length} migration(s) to ${sandbox.settings.database}: ${tags.join(', ')}`,
    );
    expect((await cli('migrate')).out).toContain('is up to date');
  });

  it('validate reports every problem with the file and key path, exit code 2', async () => {
    const bad = join(sandbox.dir, 'bad.yml');
    await writeFile(
      bad,
      fleet()
        .replace('max_runtime: "6h"', 'max_runtime: "6 hours"')
        .replace(`pulp_master: ${primary}`, 'pulp_master: nowhere'),
    );
    const res = await cli('config', 'validate', bad);
    expect(res.code).toBe(2);
    expect(res.out).toContain(
      `${bad}: pulp_servers.${primary}.repo_groups.external_repos.max_runtime: invalid max_runtime "6 hours"`,
    );
    expect(res.out).toContain(
      `${bad}: pulp_servers.${secondary}.repo_groups.external_repos.pulp_master: pulp_master "nowhere" is not a server`,
    );
    expect((await cli('config', 'validate')).out).toContain('valid (2 servers, 2 repo groups)');
  });

  it('apply creates DB rows and schedules; a second apply changes nothing; dry-run changes nothing', async () => {
    const first = await cli('config', 'apply');
    expect(first.out).toContain(`server add ${primary}`);
    expect(first.out).toContain(`schedule create repo-group-sync/${secondary}/external_repos`);
    const [s] = await sandbox.db.select().from(pulp_servers).where(eq(pulp_servers.name, secondary));
    const [link] = await sandbox.db
      .select()
      .from(pulp_server_repo_groups)
      .where(eq(pulp_server_repo_groups.pulp_server_id, s?.id ?? 0));
    const [p] = await sandbox.db.select().from(pulp_servers).where(eq(pulp_servers.name, primary));
    expect(link?.pulp_master_id).toBe(p?.id);
    expect(await scheduleCron(`repo-group-sync/${primary}/external_repos`)).toBe('0 0');
    // The stale-task sweeper comes with every config (its id is fixed: an earlier run of this
    // file may have created it already, so the schedule is checked rather than the output).
    const sweeper = await sandbox.temporal.schedule.getHandle(SWEEP_STALE_TASKS_SCHEDULE_ID).describe();
    expect(sweeper.memo).toEqual({ managedBy: 'pulp-manager' });
    expect(sweeper.action.type === 'startWorkflow' && sweeper.action.workflowType).toBe(
      'sweepStaleTasksWorkflow',
    );

    expect((await cli('config', 'apply')).out).toContain('nothing to change');
    await sandbox.writeFleet(fleet({ cron: '45 3 * * *' }));
    const dry = await cli('config', 'apply', '--dry-run');
    expect(dry.out).toContain('would change:');
    expect(dry.out).toContain(`link update ${primary} → external_repos (schedule)`);
    expect(dry.out).toContain(`schedule update repo-group-sync/${primary}/external_repos (45 3 * * *)`);
    expect(await scheduleCron(`repo-group-sync/${primary}/external_repos`)).toBe('0 0');
  });

  it('an edited schedule, a removed group and a removed server show in the DB and in Temporal', async () => {
    await sandbox.writeFleet(fleet({ cron: '45 3 * * *' }));
    await cli('config', 'apply');
    expect(await scheduleCron(`repo-group-sync/${primary}/external_repos`)).toBe('45 3');

    await sandbox.writeFleet(fleet({ cron: '45 3 * * *', internal: false }));
    const removedGroup = await cli('config', 'apply');
    expect(removedGroup.out).toContain(`link remove ${primary} → internal_repos`);
    expect(removedGroup.out).toContain(`schedule delete repo-group-sync/${primary}/internal_repos`);
    await expect(
      sandbox.temporal.schedule.getHandle(`repo-group-sync/${primary}/internal_repos`).describe(),
    ).rejects.toBeInstanceOf(ScheduleNotFoundError);
    expect((await sandbox.db.select().from(repo_groups)).map((g) => g.name).sort()).toEqual([
      'external_repos',
      'internal_repos',
    ]);

    await sandbox.writeFleet(fleet({ cron: '45 3 * * *', internal: false, secondary: false }));
    const removedServer = await cli('config', 'apply');
    expect(removedServer.out).toContain(`server remove ${secondary}`);
    expect(removedServer.out).toContain(`schedule delete repo-group-sync/${secondary}/external_repos`);
    expect(await sandbox.db.select().from(pulp_servers).where(eq(pulp_servers.name, secondary))).toEqual([]);
  });
});
