import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PulpServerClients } from '../../../activities/pulp/serverClients.js';
import { type AppConfig, loadAppConfig } from '../../../config/loadAppConfig.js';
import { pulp_servers } from '../../../db/schema.js';
import { useMigratedDatabase } from '../../db/throwawayDatabase.js';
import { stack } from '../../support/stack.js';
import { startVaultApiDouble, type VaultApiDouble } from '../../support/vaultApiDouble.js';

/**
 * The production credential path, end to end from the server's row to the real Pulp primary:
 * without PULP_MANAGER_LOCAL_AUTH the activities' Pulp clients (PulpServerClients) read the
 * service account's password from Vault (through the agent: /v1/<mount>/creds/<username>) and,
 * when Pulp refuses it with 401, read it once more (it may have rotated) and no more. Vault is
 * the HTTP double of test/support (the dev stack has no Vault); Pulp is the real primary.
 */
const MOUNT = 'service-accounts';
const creds = `creds/${stack.pulp.username}`;
const credsPath = `/v1/${MOUNT}/${creds}`;

const scratch = useMigratedDatabase();
let vault: VaultApiDouble;
let config: AppConfig;
const secrets: Record<string, Record<string, string>> = {};

beforeAll(async () => {
  vault = await startVaultApiDouble({ namespaces: { '': { [MOUNT]: { version: 1, secrets } } } });
  const dev = new URL('../../../dev/config/', import.meta.url).pathname;
  config = await loadAppConfig(
    {
      PULP_MANAGER_CONFIG_PATH: `${dev}config.ini`,
      PULP_SYNC_CONFIG_PATH: `${dev}pulp_config.yml`,
      DB_HOSTNAME: scratch.settings.host,
      DB_PORT: String(scratch.settings.port),
      DB_USER: scratch.settings.user,
      DB_NAME: scratch.settings.database,
      DB_PASSWORD: scratch.settings.password,
    },
    () => undefined,
  );
  config.ini.vault.vault_addr = vault.addr;
  await scratch.db.insert(pulp_servers).values({
    name: stack.pulp.primary.name,
    username: stack.pulp.username,
    vault_service_account_mount: MOUNT,
  });
});

afterAll(async () => {
  await vault?.close();
});

const vaultReads = () => vault.requests.filter((r) => r.path === credsPath).length;

/** A fresh set of clients (as a new worker process has) and its client for the primary. */
async function primaryClient() {
  return new PulpServerClients(scratch.db, config).forServer(stack.pulp.primary.name);
}

async function listStatus(): Promise<number> {
  const client = await primaryClient();
  const statuses: number[] = [];
  for (let i = 0; i < 3; i++) {
    const { response } = await client.GET('/pulp/api/v3/repositories/', { params: { query: { limit: 1 } } });
    statuses.push(response.status);
  }
  return statuses.every((s) => s === statuses[0]) ? (statuses[0] ?? 0) : -1;
}

describe('Pulp credentials from Vault (production path, real primary)', () => {
  it('is not local auth: the dev config read without PULP_MANAGER_LOCAL_AUTH', () => {
    expect(config.localAuth).toBe(false);
  });

  it('reads the password from Vault once, with no token or namespace, and serves calls with it', async () => {
    Object.defineProperty(secrets, creds, {
      configurable: true,
      enumerable: true,
      writable: true,
      value: { current_password: stack.pulp.password },
    });
    vault.requests.length = 0;
    expect(await listStatus()).toBe(200);
    expect(vaultReads()).toBe(1);
    const [req] = vault.requests;
    expect(req?.method).toBe('GET');
    expect(req?.headers['x-vault-token']).toBeUndefined();
    expect(req?.headers['x-vault-namespace']).toBeUndefined();
  });

  it('re-reads a rotated password once after Pulp answers 401, then goes on with it', async () => {
    // The first read gets the password from before the rotation; Vault has the new one next.
    let reads = 0;
    Object.defineProperty(secrets, creds, {
      configurable: true,
      enumerable: true,
      get: () => ({ current_password: reads++ === 0 ? 'rotated-away' : stack.pulp.password }),
    });
    vault.requests.length = 0;
    const client = await primaryClient();
    const first = await client.GET('/pulp/api/v3/repositories/', { params: { query: { limit: 1 } } });
    expect(first.response.status).toBe(200);
    expect(vaultReads()).toBe(2);
    // The session it logged in with serves later calls: no more reads.
    expect(
      (await client.GET('/pulp/api/v3/repositories/', { params: { query: { limit: 1 } } })).response.status,
    ).toBe(200);
    expect(vaultReads()).toBe(2);
  });

  it('answers 401 to the caller when the re-read password is refused too, after exactly two reads', async () => {
    Object.defineProperty(secrets, creds, {
      configurable: true,
      enumerable: true,
      writable: true,
      value: { current_password: 'wrong-twice' },
    });
    vault.requests.length = 0;
    const client = await primaryClient();
    const { response } = await client.GET('/pulp/api/v3/repositories/', { params: { query: { limit: 1 } } });
    expect(response.status).toBe(401);
    expect(vaultReads()).toBe(2);
  });

  it('a Vault that cannot answer is an error naming Vault, not a Pulp 401', async () => {
    vault.fail(credsPath, 403);
    try {
      const client = await primaryClient();
      const err = await client
        .GET('/pulp/api/v3/repositories/', { params: { query: { limit: 1 } } })
        .catch((e: unknown) => e);
      expect(String(err)).toMatch(/403/);
      expect(String(err)).toMatch(/creds/);
    } finally {
      vault.heal();
    }
  });
});
