import { eq } from 'drizzle-orm';
import type { AppConfig } from '../../config/loadAppConfig.js';
import type { Database } from '../../db/client.js';
import { pulp_servers } from '../../db/schema.js';
import { createPulpClient, type PulpClient } from '../../pulp/client.js';
import { readServiceAccountPassword } from '../vault/serviceAccountPassword.js';

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
 * A client holds its server's login session (pulpSession.ts), so all activities of a worker
 * process share one session per server.
 */
export class PulpServerClients {
  /**
   * Promises, not clients: activities that start together for a server not met yet must share
   * one client instead of each creating one (and each logging in to Pulp).
   */
  private readonly clients = new Map<string, Promise<PulpClient>>();

  constructor(
    private readonly db: Database,
    private readonly config: AppConfig,
  ) {}

  forServer(server: string): Promise<PulpClient> {
    let client = this.clients.get(server);
    if (!client) {
      client = this.createClient(server);
      this.clients.set(server, client);
      // A failed look-up (unknown server, database down) is not cached: the next call tries again.
      const created = client;
      created.catch(() => {
        if (this.clients.get(server) === created) this.clients.delete(server);
      });
    }
    return client;
  }

  private async createClient(server: string): Promise<PulpClient> {
    const [row] = await this.db
      .select({ username: pulp_servers.username, mount: pulp_servers.vault_service_account_mount })
      .from(pulp_servers)
      .where(eq(pulp_servers.name, server));
    if (!row) throw new UnknownPulpServerError(server);
    const { localAuth, ini } = this.config;
    const vaultAddr = ini.vault.vault_addr ?? 'http://127.0.0.1:8200';
    return createPulpClient({
      baseUrl: pulpApiOrigin(server, this.config),
      username: row.username,
      requestTimeoutMs: ini.pulp.api_request_timeout * 1000,
      password: async () =>
        localAuth
          ? (ini.pulp.password ?? '')
          : readServiceAccountPassword(vaultAddr, row.mount ?? '', row.username),
    });
  }
}
