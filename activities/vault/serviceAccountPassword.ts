import { createVaultReader } from './vaultClient.js';

/** Thrown when the Vault agent cannot give a service account password. */
export class VaultReadError extends Error {
  readonly code = 'VAULT_READ_FAILED';
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(`vault read of ${path} failed: ${message}`);
    this.name = 'VaultReadError';
  }
}

/**
 * Reads a Pulp service account's password through the local Vault agent, which adds the token
 * itself (this process never holds one): KV v1 `<mount>/creds/<username>` → current_password,
 * in the root namespace, as the original's Pulp client read it.
 */
export async function readServiceAccountPassword(
  vaultAddr: string,
  mount: string,
  username: string,
): Promise<string> {
  const path = `${mount}/creds/${username}`;
  let res: Awaited<ReturnType<ReturnType<typeof createVaultReader>['get']>>;
  try {
    res = await createVaultReader({ vaultAddr }).get(path);
  } catch (err) {
    throw new VaultReadError(path, (err as Error).message);
  }
  if (res.status !== 200) throw new VaultReadError(path, `HTTP ${res.status}`);
  const password = (res.body as { data?: { current_password?: unknown } } | undefined)?.data
    ?.current_password;
  if (typeof password !== 'string' || password === '')
    throw new VaultReadError(path, 'no current_password in the secret');
  return password;
}
