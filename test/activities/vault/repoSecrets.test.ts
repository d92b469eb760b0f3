import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRepoSecretReader, RepoSecretReadError } from '../../../activities/vault/repoSecrets.js';

// A stand-in for the Vault agent's HTTP API (the agent adds the token; we send none).
const SECRET = '-----BEGIN PRIVATE KEY-----\nsecret-key-material\n-----END PRIVATE KEY-----';
const routes: Record<string, unknown> = {
  'sys/mounts': {
    data: { 'kv1/': { type: 'kv', options: null }, 'kv2/': { type: 'kv', options: { version: '2' } } },
  },
  'kv1/rhel/cdn': { data: { client_key: SECRET } },
  'kv2/data/rhel/cdn': { data: { data: { client_key: SECRET }, metadata: { version: 3 } } },
  'sys/internal/ui/mounts/limited': { data: { type: 'kv', options: { version: '2' } } },
  'limited/data/x': { data: { data: { password: 'pw-from-limited' } } },
};
let server: Server;
let vaultAddr: string;
const seen: { path: string; headers: IncomingHttpHeaders }[] = [];
let mountsForbidden = false;

beforeAll(async () => {
  server = createServer((req, res) => {
    const path = (req.url ?? '').replace(/^\/v1\//, '');
    seen.push({ path, headers: req.headers });
    const body = mountsForbidden && path === 'sys/mounts' ? undefined : routes[path];
    res.writeHead(body ? 200 : mountsForbidden && path === 'sys/mounts' ? 403 : 404, {
      'content-type': 'application/json',
    });
    res.end(JSON.stringify(body ?? { errors: [] }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  vaultAddr = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe('repo secrets through the Vault agent', () => {
  it.each([
    ['KV v1', 'kv1', 'kv1/rhel/cdn'],
    ['KV v2', 'kv2', 'kv2/data/rhel/cdn'],
  ])('%s is detected from the mount list and read at the right path', async (_v, kv, readPath) => {
    seen.length = 0;
    const reader = createRepoSecretReader({ vaultAddr, namespace: 'secrets-common' });
    expect(await reader.read({ kv, path: 'rhel/cdn', secret_name: 'client_key' })).toBe(SECRET);
    expect(seen.map((s) => s.path)).toEqual(['sys/mounts', readPath]);
    for (const s of seen) {
      expect(s.headers['x-vault-namespace']).toBe('secrets-common');
      expect(s.headers['x-vault-token']).toBeUndefined();
    }
  });

  it('reads the mount list once per reader', async () => {
    seen.length = 0;
    const reader = createRepoSecretReader({ vaultAddr });
    await reader.read({ kv: 'kv2', path: 'rhel/cdn', secret_name: 'client_key' });
    await reader.read({ kv: 'kv2/', path: '/rhel/cdn', secret_name: 'client_key' });
    expect(seen.map((s) => s.path)).toEqual(['sys/mounts', 'kv2/data/rhel/cdn', 'kv2/data/rhel/cdn']);
    expect(seen[0]?.headers['x-vault-namespace']).toBeUndefined();
  });

  it('falls back to the per-mount lookup when the mount list is forbidden', async () => {
    mountsForbidden = true;
    try {
      const reader = createRepoSecretReader({ vaultAddr });
      expect(await reader.read({ kv: 'limited', path: 'x', secret_name: 'password' })).toBe(
        'pw-from-limited',
      );
    } finally {
      mountsForbidden = false;
    }
  });

  it.each([
    [
      'unknown mount',
      { kv: 'nope', path: 'rhel/cdn', secret_name: 'client_key' },
      /cannot tell the KV version/,
    ],
    ['missing secret', { kv: 'kv1', path: 'rhel/other', secret_name: 'client_key' }, /HTTP 404/],
    ['missing key', { kv: 'kv2', path: 'rhel/cdn', secret_name: 'client_cert' }, /no such key/],
  ])('%s fails naming where it looked, never a value', async (_case, ref, message) => {
    const err = await createRepoSecretReader({ vaultAddr })
      .read(ref)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RepoSecretReadError);
    expect((err as Error).message).toMatch(message);
    expect((err as Error).message).toContain(`${ref.kv}/${ref.path}`);
    expect((err as Error).message).not.toContain('secret-key-material');
  });
});
