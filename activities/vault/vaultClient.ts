// The one way this project talks to Vault: node-vault, set up as the original's
// hashi_vault_client was for the Vault agent (vault_agent=True): the agent adds the token, so
// none is sent, and X-Vault-Namespace only where the original sent one.
import nodeVault from 'node-vault';

const REQUEST_TIMEOUT_MS = 15_000;

export interface VaultClientOptions {
  vaultAddr: string;
  /** Vault Enterprise namespace, sent as X-Vault-Namespace. */
  namespace?: string;
}

/** A read's answer: the status, and the body when it was a 200. */
export interface VaultAnswer {
  status: number;
  body: unknown;
}

export interface VaultReader {
  /** GET /v1/<path>. Resolves for any HTTP answer; rejects only when Vault cannot be reached. */
  get(path: string): Promise<VaultAnswer>;
}

interface VaultResponseError {
  response: { statusCode: number };
}

const isResponseError = (err: unknown): err is VaultResponseError =>
  typeof (err as VaultResponseError | null)?.response?.statusCode === 'number';

export function createVaultReader(opts: VaultClientOptions): VaultReader {
  const client = nodeVault({
    apiVersion: 'v1',
    endpoint: opts.vaultAddr,
    requestOptions: { timeout: REQUEST_TIMEOUT_MS },
  });
  // node-vault falls back to VAULT_TOKEN, VAULT_NAMESPACE and VAULT_PREFIX from the
  // environment when an option is empty: only what the config says is sent. No token: the
  // local agent authenticates (the original's only mode), this process never holds one.
  client.token = '';
  (client as { namespace?: string }).namespace = opts.namespace ?? '';
  (client as { pathPrefix?: string }).pathPrefix = '';
  return {
    async get(path) {
      try {
        return { status: 200, body: (await client.read(path)) as unknown };
      } catch (err) {
        if (isResponseError(err)) return { status: err.response.statusCode, body: undefined };
        throw err;
      }
    },
  };
}
