import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  readServiceAccountPassword,
  VaultReadError,
} from '../../../activities/vault/serviceAccountPassword.js';
import { startVaultApiDouble, type VaultApiDouble } from '../../support/vaultApiDouble.js';

// Pulp service account passwords read with node-vault from a DOUBLE of the Vault agent's HTTP
// API: KV v1 <mount>/creds/<username> → current_password in the root namespace, no token,
// as the original's Pulp client (use_vault_agent=True) read them.
let vault: VaultApiDouble;

beforeAll(async () => {
  vault = await startVaultApiDouble({
    namespaces: {
      '': {
        'service-accounts': {
          version: 1,
          secrets: {
            'creds/svc-pulp': { current_password: 'pw-1', last_password: 'pw-0', username: 'svc-pulp' },
            'creds/svc-empty': { username: 'svc-empty' },
          },
        },
      },
    },
  });
});
afterEach(() => vault.heal());
afterAll(() => vault.close());

async function failure(username: string, addr = vault.addr): Promise<VaultReadError> {
  const err = await readServiceAccountPassword(addr, 'service-accounts', username).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(VaultReadError);
  const e = err as VaultReadError;
  expect(e.code).toBe('VAULT_READ_FAILED');
  expect(e.path).toBe(`service-accounts/creds/${username}`);
  expect(e.message.startsWith(`vault read of service-accounts/creds/${username} failed: `)).toBe(true);
  return e;
}

describe('service account passwords through the Vault agent, with node-vault', () => {
  it('GETs /v1/<mount>/creds/<username> with no token and no namespace, and answers current_password', async () => {
    vault.requests.length = 0;
    const saved = process.env.VAULT_TOKEN;
    process.env.VAULT_TOKEN = 's.must-not-be-sent';
    try {
      expect(await readServiceAccountPassword(vault.addr, 'service-accounts', 'svc-pulp')).toBe('pw-1');
    } finally {
      if (saved === undefined) delete process.env.VAULT_TOKEN;
      else process.env.VAULT_TOKEN = saved;
    }
    expect(vault.requests).toHaveLength(1);
    const [req] = vault.requests;
    expect(`${req?.method} ${req?.path}`).toBe('GET /v1/service-accounts/creds/svc-pulp');
    expect(req?.headers['x-vault-token']).toBeUndefined();
    expect(req?.headers['x-vault-namespace']).toBeUndefined();
  });

  it('a vault_addr with a trailing slash reads the same path', async () => {
    vault.requests.length = 0;
    await readServiceAccountPassword(`${vault.addr}/`, 'service-accounts', 'svc-pulp');
    expect(vault.requests.map((r) => r.path)).toEqual(['/v1/service-accounts/creds/svc-pulp']);
  });

  it('404 (no such account), 403 (policy) and 5xx name the status', async () => {
    expect((await failure('svc-unknown')).message).toMatch(/failed: HTTP 404$/);
    vault.fail('/v1/service-accounts/creds/svc-pulp', 403);
    expect((await failure('svc-pulp')).message).toMatch(/failed: HTTP 403$/);
    vault.fail('/v1/service-accounts/creds/svc-pulp', 503);
    expect((await failure('svc-pulp')).message).toMatch(/failed: HTTP 503$/);
  });

  it('a secret without current_password says so', async () => {
    expect((await failure('svc-empty')).message).toMatch(/no current_password in the secret$/);
  });

  it('an unreachable agent is a VaultReadError naming the connection error', async () => {
    const closed = await startVaultApiDouble({ namespaces: {} });
    await closed.close();
    expect((await failure('svc-pulp', closed.addr)).message).toMatch(/ECONNREFUSED/);
  });
});
