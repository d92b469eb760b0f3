import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createRepoSecretReader, RepoSecretReadError } from '../../../activities/vault/repoSecrets.js';
import { startVaultApiDouble, type VaultApiDouble } from '../../support/vaultApiDouble.js';

// Repo secrets (vault_load_secrets) read with node-vault from a DOUBLE of the Vault agent's
// HTTP API (test/support/vaultApiDouble.ts): the paths the original read, in the namespace of
// [vault] repo_secret_namespace, with no token (the agent adds it).
const SECRET = '-----BEGIN PRIVATE KEY-----\nsecret-key-material\n-----END PRIVATE KEY-----';
const NAMESPACE = 'secrets-common';
let vault: VaultApiDouble;

beforeAll(async () => {
  const mounts = {
    kv1: { version: 1 as const, secrets: { 'rhel/cdn': { client_key: SECRET } } },
    kv2: { version: 2 as const, secrets: { 'rhel/cdn': { client_key: SECRET } } },
    limited: { version: 2 as const, secrets: { x: { password: 'pw-from-limited' } } },
  };
  vault = await startVaultApiDouble({
    namespaces: {
      [NAMESPACE]: mounts,
      // The root namespace holds other values: a read in the wrong namespace would show.
      '': { kv2: { version: 2, secrets: { 'rhel/cdn': { client_key: 'root-namespace-value' } } } },
    },
  });
});
afterEach(() => vault.heal());
afterAll(() => vault.close());

const reader = (namespace: string | undefined = NAMESPACE, vaultAddr = vault.addr) =>
  createRepoSecretReader({ vaultAddr, namespace });

describe('repo secrets through the Vault agent, with node-vault', () => {
  it.each([
    ['KV v1', 'kv1', '/v1/kv1/rhel/cdn'],
    ['KV v2', 'kv2', '/v1/kv2/data/rhel/cdn'],
  ])('%s is detected from the mount list and read at the right path', async (_v, kv, readPath) => {
    vault.requests.length = 0;
    expect(await reader().read({ kv, path: 'rhel/cdn', secret_name: 'client_key' })).toBe(SECRET);
    expect(vault.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      'GET /v1/sys/mounts',
      `GET ${readPath}`,
    ]);
    for (const r of vault.requests) {
      expect(r.headers['x-vault-namespace']).toBe(NAMESPACE);
      expect(r.headers['x-vault-token']).toBeUndefined();
    }
  });

  it('without a namespace sends no X-Vault-Namespace and reads the root namespace', async () => {
    vault.requests.length = 0;
    expect(
      await createRepoSecretReader({ vaultAddr: vault.addr }).read({
        kv: 'kv2',
        path: 'rhel/cdn',
        secret_name: 'client_key',
      }),
    ).toBe('root-namespace-value');
    for (const r of vault.requests) expect(r.headers['x-vault-namespace']).toBeUndefined();
  });

  it('never sends what node-vault would take from the environment (VAULT_TOKEN, VAULT_NAMESPACE, VAULT_PREFIX)', async () => {
    const saved = { ...process.env };
    Object.assign(process.env, {
      VAULT_TOKEN: 's.leaked',
      VAULT_NAMESPACE: 'other-ns',
      VAULT_PREFIX: '/prefix',
    });
    try {
      vault.requests.length = 0;
      expect(await reader().read({ kv: 'kv1', path: 'rhel/cdn', secret_name: 'client_key' })).toBe(SECRET);
      expect(vault.requests.map((r) => r.path)).toEqual(['/v1/sys/mounts', '/v1/kv1/rhel/cdn']);
      for (const r of vault.requests) {
        expect(r.headers['x-vault-token']).toBeUndefined();
        expect(r.headers['x-vault-namespace']).toBe(NAMESPACE);
      }
    } finally {
      for (const key of ['VAULT_TOKEN', 'VAULT_NAMESPACE', 'VAULT_PREFIX']) {
        if (saved[key] === undefined) delete process.env[key];
        else process.env[key] = saved[key];
      }
    }
  });

  it('reads the mount list once per reader', async () => {
    vault.requests.length = 0;
    const r = reader();
    await r.read({ kv: 'kv2', path: 'rhel/cdn', secret_name: 'client_key' });
    await r.read({ kv: 'kv2/', path: '/rhel/cdn', secret_name: 'client_key' });
    expect(vault.requests.map((q) => q.path)).toEqual([
      '/v1/sys/mounts',
      '/v1/kv2/data/rhel/cdn',
      '/v1/kv2/data/rhel/cdn',
    ]);
  });

  it('falls back to the per-mount lookup when the mount list is forbidden (403)', async () => {
    vault.fail('/v1/sys/mounts', 403);
    vault.requests.length = 0;
    expect(await reader().read({ kv: 'limited', path: 'x', secret_name: 'password' })).toBe(
      'pw-from-limited',
    );
    expect(vault.requests.map((q) => q.path)).toEqual([
      '/v1/sys/mounts',
      '/v1/sys/internal/ui/mounts/limited',
      '/v1/limited/data/x',
    ]);
  });

  async function failure(ref: { kv: string; path: string; secret_name: string }, r = reader()) {
    const err = await r.read(ref).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RepoSecretReadError);
    const e = err as RepoSecretReadError;
    expect(e.code).toBe('VAULT_REPO_SECRET_READ_FAILED');
    expect(e.message).toContain(`"${ref.secret_name}" in ${ref.kv}/${ref.path}`);
    expect(e.message).not.toContain('secret-key-material');
    return e.message;
  }

  it.each([
    [
      'unknown mount',
      { kv: 'nope', path: 'rhel/cdn', secret_name: 'client_key' },
      /cannot tell the KV version/,
    ],
    [
      'missing secret (404)',
      { kv: 'kv1', path: 'rhel/other', secret_name: 'client_key' },
      /failed: HTTP 404$/,
    ],
    ['missing key', { kv: 'kv2', path: 'rhel/cdn', secret_name: 'client_cert' }, /no such key in the secret/],
  ])('%s fails naming where it looked, never a value', async (_case, ref, message) => {
    expect(await failure(ref)).toMatch(message);
  });

  it.each([
    [403, /failed: HTTP 403$/],
    [500, /failed: HTTP 500$/],
    [503, /failed: HTTP 503$/],
  ])('a %i on the secret read is a RepoSecretReadError naming the status', async (status, message) => {
    vault.fail('/v1/kv2/data/rhel/cdn', status);
    expect(await failure({ kv: 'kv2', path: 'rhel/cdn', secret_name: 'client_key' })).toMatch(message);
  });

  it('an unreachable agent is a RepoSecretReadError, and the next read tries again', async () => {
    const closed = await startVaultApiDouble({ namespaces: {} });
    await closed.close();
    const r = reader(NAMESPACE, closed.addr);
    expect(await failure({ kv: 'kv2', path: 'rhel/cdn', secret_name: 'client_key' }, r)).toMatch(
      /cannot tell the KV version: .*ECONNREFUSED/,
    );
    // The failed version lookup is not cached: a reader for a reachable agent works at once.
    expect(await reader().read({ kv: 'kv2', path: 'rhel/cdn', secret_name: 'client_key' })).toBe(SECRET);
  });
});
