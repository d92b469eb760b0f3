import { Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../api/logging.js';
import { runApiServer } from '../../api/runApiServer.js';
import type { AppConfig } from '../../config/loadAppConfig.js';
import { parseIniConfig } from '../../config/loadAppConfig.js';
import { formatIni } from '../../config/pythonIni.js';
import { migrateDatabase } from '../../db/migrate.js';
import { createThrowawayDatabase, type ThrowawayDatabase } from '../db/throwawayDatabase.js';
import { stack } from '../support/stack.js';
import { API_TEST_NAMESPACE, ensureNamespace, JWT_SECRET, testIniSections } from './support/apiHarness.js';

// `pulp-manager api` as the CLI runs it: real HTTP on a free port, the real dependencies.

let migrated: ThrowawayDatabase;
let empty: ThrowawayDatabase;

const configFor = (db: ThrowawayDatabase): AppConfig => ({
  configPath: 'test/api/config.ini',
  pulpConfigPath: 'test/api/pulp_config.yml',
  ini: parseIniConfig(formatIni(testIniSections('api-test-http')), 'test/api/config.ini'),
  database: db.settings,
  jwtSecret: JWT_SECRET,
  localAuth: true,
});

beforeAll(async () => {
  const connection = await Connection.connect({ address: stack.temporal.address });
  await ensureNamespace(connection, API_TEST_NAMESPACE).finally(() => connection.close());
  migrated = await createThrowawayDatabase();
  await migrateDatabase(migrated.settings);
  empty = await createThrowawayDatabase();
}, 60_000);

afterAll(async () => {
  await migrated?.drop();
  await empty?.drop();
});

describe('runApiServer', () => {
  it('serves the API over HTTP until stopped', async () => {
    const api = await runApiServer(configFor(migrated), { host: '127.0.0.1', port: 0, logger: silentLogger });
    try {
      const base = `http://127.0.0.1:${api.server.address.port}`;
      expect((await fetch(`${base}/ready`)).status).toBe(200);
      const doc = (await (await fetch(`${base}/openapi.json`)).json()) as { paths: Record<string, unknown> };
      expect(Object.keys(doc.paths)).toContain('/v1/pulp_servers/{id}/sync_repos');
      const page = await fetch(`${base}/v1/tasks?page_size=2`);
      expect(await page.json()).toEqual({
        items: [],
        page: 1,
        page_size: 2,
        total: 0,
        total_as_of: expect.any(String),
        next: null,
      });
      // Encoded slashes of schedule ids survive the real HTTP path.
      expect((await fetch(`${base}/v1/schedules/repo-group-sync%2Fnone%2Fnone`)).status).toBe(404);
    } finally {
      await api.stop();
    }
    await expect(fetch(`http://127.0.0.1:${api.server.address.port}/health`)).rejects.toThrow();
  });

  it('refuses to start on a database that is not migrated', async () => {
    await expect(runApiServer(configFor(empty), { port: 0, logger: silentLogger })).rejects.toMatchObject({
      code: 'DB_NOT_MIGRATED',
    });
  });
});
