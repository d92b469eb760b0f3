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
 * itself (this process never holds one): KV v1 `<mount>/creds/<username>` → current_password.
 */
export async function readServiceAccountPassword(
  vaultAddr: string,
  mount: string,
  username: string,
  fetchImpl: typeof fetch = fetch,
): Promise<string> {
  const path = `${mount}/creds/${username}`;
  let res: Response;
  try {
    res = await fetchImpl(`${vaultAddr.replace(/\/$/, '')}/v1/${path}`, {
      signal: AbortSignal.timeout(15_000),
    });
  } catch (err) {
    throw new VaultReadError(path, (err as Error).message);
  }
  if (!res.ok) throw new VaultReadError(path, `HTTP ${res.status}`);
  const body = (await res.json()) as { data?: { current_password?: unknown } };
  const password = body.data?.current_password;
  if (typeof password !== 'string' || password === '')
    throw new VaultReadError(path, 'no current_password in the secret');
  return password;
}
