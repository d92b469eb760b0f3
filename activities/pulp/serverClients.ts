import { eq } from 'drizzle-orm';
import type { AppConfig } from '../../config/loadAppConfig.js';
import type { Database } from '../../db/client.js';
import { pulp_servers } from '../../db/schema.js';
import { readServiceAccountPassword } from '../vault/serviceAccountPassword.js';
import { createPulpClient, type PulpClient } from './client.js';

export class UnknownPulpServerError extends Error {
  readonly code = 'UNKNOWN_PULP_SERVER';
  constructor(readonly server: string) {
    super(`Pulp server "${server}" is not configured (see pulp_config.yml)`);
    this.name = 'UnknownPulpServerError';
  }
}

/** The origin a server's API is reached at: servers are named host[:port]. */
export function pulpApiOrigin(server: string, config: AppConfig): string {
  return `${config.ini.pulp.use_https_for_api ? 'https' : 'http'}://${server}`;
}

/**
 * One typed client per configured Pulp server, credentials from the database rows that config
 * apply wrote: Vault (through the agent) by default, `[pulp] password` in local-auth mode.
 */
export class PulpServerClients {
  private readonly clients = new Map<string, PulpClient>();

  constructor(
    private readonly db: Database,
    private readonly config: AppConfig,
  ) {}

  async forServer(server: string): Promise<PulpClient> {
    const cached = this.clients.get(server);
    if (cached) return cached;
    const [row] = await this.db
      .select({ username: pulp_servers.username, mount: pulp_servers.vault_service_account_mount })
      .from(pulp_servers)
      .where(eq(pulp_servers.name, server));
    if (!row) throw new UnknownPulpServerError(server);
    const { localAuth, ini } = this.config;
    const vaultAddr = ini.vault.vault_addr ?? 'http://127.0.0.1:8200';
    const client = createPulpClient({
      baseUrl: pulpApiOrigin(server, this.config),
      username: row.username,
      requestTimeoutMs: ini.pulp.api_request_timeout * 1000,
      password: async () =>
        localAuth
          ? (ini.pulp.password ?? '')
          : readServiceAccountPassword(vaultAddr, row.mount ?? '', row.username),
    });
    this.clients.set(server, client);
    return client;
  }
}
