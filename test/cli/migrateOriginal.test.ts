import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runOriginalAlembic } from '../db/originalAlembic.js';
import { createThrowawayDatabase, type ThrowawayDatabase } from '../db/throwawayDatabase.js';

// What an operator sees when `pulp-manager migrate` refuses the original's database.
const sh = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));

describe('pulp-manager migrate on a database of the original at an older alembic revision', () => {
  let throwaway: ThrowawayDatabase;

  beforeAll(async () => {
    throwaway = await createThrowawayDatabase();
    await runOriginalAlembic(throwaway.settings, '28d3febd3e37');
  }, 60_000);

  afterAll(async () => {
    await throwaway?.drop();
  });

  it('exits 1 naming the code, the revision found and the supported one', async () => {
    const env = {
      ...process.env,
      PULP_MANAGER_CONFIG_PATH: fileURLToPath(new URL('../../dev/config/config.ini', import.meta.url)),
      DB_HOSTNAME: throwaway.settings.host,
      DB_PORT: String(throwaway.settings.port),
      DB_USER: throwaway.settings.user,
      DB_NAME: throwaway.settings.database,
      DB_PASSWORD: throwaway.settings.password,
    };
    const failed = await sh('npx', ['tsx', 'cli/main.ts', 'migrate'], { cwd: root, env }).then(
      () => undefined,
      (err: unknown) => err as { code: number; stdout: string; stderr: string },
    );
    expect(failed?.code).toBe(1);
    expect(failed?.stderr).toContain(
      `pulp-manager: ORIGINAL_DB_UNKNOWN_REVISION: database ${throwaway.settings.database} holds the original ` +
        "Pulp Manager's schema at alembic revision 28d3febd3e37; this release converts revision 1d9d4fd3f6fa " +
        "(the original's head) only: run the original's `alembic upgrade head` first, then `pulp-manager migrate` " +
        'again. Nothing was changed.',
    );
  });
});
