import type { VaultSecretRef } from '../../config/repoConfigSchema.js';
import { createVaultReader, type VaultAnswer } from './vaultClient.js';

/** A repo secret could not be read. Names where it was looked for, never a value. */
export class RepoSecretReadError extends Error {
  readonly code = 'VAULT_REPO_SECRET_READ_FAILED';
  constructor(
    readonly kv: string,
    readonly path: string,
    readonly secretName: string,
    reason: string,
  ) {
    super(`vault read of "${secretName}" in ${kv}/${path} failed: ${reason}`);
    this.name = 'RepoSecretReadError';
  }
}

export interface RepoSecretReaderOptions {
  vaultAddr: string;
  /** `[vault] repo_secret_namespace` (Vault Enterprise namespace), sent as X-Vault-Namespace. */
  namespace?: string;
}

const trimSlashes = (s: string) => s.replace(/^\/+|\/+$/g, '');

/**
 * Reads repo secrets (vault_load_secrets) through the local Vault agent, which adds the token.
 * KV v1 or v2 is detected per mount from the mount list (sys/mounts, or the per-mount
 * sys/internal/ui/mounts lookup when the policy does not allow listing every mount).
 * Values are returned to the caller only: they never go into errors or logs.
 */
export function createRepoSecretReader(opts: RepoSecretReaderOptions) {
  const vault = createVaultReader({ vaultAddr: opts.vaultAddr, namespace: opts.namespace });
  const versions = new Map<string, Promise<1 | 2>>();

  async function detectVersion(kv: string): Promise<1 | 2> {
    const mount = `${trimSlashes(kv)}/`;
    const all = await vault.get('sys/mounts');
    type Mount = { options?: { version?: string } | null };
    let found: Mount | undefined;
    if (all.status === 200) {
      const b = all.body as { data?: Record<string, Mount> } & Record<string, Mount>;
      found = b.data?.[mount] ?? b[mount];
    } else {
      const one = await vault.get(`sys/internal/ui/mounts/${trimSlashes(kv)}`);
      if (one.status === 200) found = (one.body as { data?: Mount }).data;
    }
    if (!found) throw new Error(`mount ${mount} not found in the mount list`);
    return found.options?.version === '2' ? 2 : 1;
  }

  return {
    async read(ref: Pick<VaultSecretRef, 'kv' | 'path' | 'secret_name'>): Promise<string> {
      const fail = (reason: string) => new RepoSecretReadError(ref.kv, ref.path, ref.secret_name, reason);
      const kv = trimSlashes(ref.kv);
      let version: 1 | 2;
      try {
        let pending = versions.get(kv);
        if (!pending) {
          pending = detectVersion(kv);
          versions.set(kv, pending);
          pending.catch(() => versions.delete(kv));
        }
        version = await pending;
      } catch (err) {
        throw fail(`cannot tell the KV version: ${(err as Error).message}`);
      }
      const path = trimSlashes(ref.path);
      let res: VaultAnswer;
      try {
        res = await vault.get(version === 2 ? `${kv}/data/${path}` : `${kv}/${path}`);
      } catch (err) {
        throw fail((err as Error).message);
      }
      if (res.status !== 200) throw fail(`HTTP ${res.status}`);
      const data = (res.body as { data?: Record<string, unknown> } | undefined)?.data;
      const values = version === 2 ? (data?.data as Record<string, unknown> | undefined) : data;
      const value = values?.[ref.secret_name];
      if (typeof value !== 'string' || value === '') throw fail('no such key in the secret');
      return value;
    },
  };
}

export type RepoSecretReader = ReturnType<typeof createRepoSecretReader>;
