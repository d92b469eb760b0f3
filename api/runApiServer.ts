import { PulpServerClients } from '../activities/pulp/serverClients.js';
import type { AppConfig } from '../config/loadAppConfig.js';
import { closeDatabase, createDatabase } from '../db/client.js';
import { assertMigrated } from '../db/migrate.js';
import { connectTemporalClient } from '../temporal/connect.js';
import { createApp } from './app.js';
import { createLdapAuthenticator } from './auth/ldapAuthenticator.js';
import { type ApiLogger, jsonLogger } from './logging.js';
import { type ApiServer, startApiServer } from './server.js';

/** The original listened on 8080 locally. */
export const DEFAULT_API_PORT = 8080;
export const DEFAULT_API_HOST = '0.0.0.0';

export interface RunningApi {
  server: ApiServer;
  /** Stops accepting requests, then closes the database pool and the Temporal connection. */
  stop(): Promise<void>;
}

/**
 * `pulp-manager api`: connects to the database (which must be migrated) and Temporal, then
 * serves the API until stop() is called.
 */
export async function runApiServer(
  config: AppConfig,
  options: { host?: string; port?: number; logger?: ApiLogger } = {},
): Promise<RunningApi> {
  const logger = options.logger ?? jsonLogger();
  const db = createDatabase(config.database);
  let temporal: Awaited<ReturnType<typeof connectTemporalClient>> | undefined;
  try {
    await assertMigrated(db);
    temporal = await connectTemporalClient(config.ini.temporal);
    const connection = temporal.connection;
    const ldap = createLdapAuthenticator({
      auth: config.ini.auth,
      caFile: config.ini.ca.root_ca_file_path,
      onServerError: (server, err) =>
        logger.warn('LDAP server unusable, trying the next', {
          ldap_server: server,
          error: err instanceof Error ? err.message : String(err),
        }),
    });
    const app = createApp({
      config,
      db,
      temporal,
      pulpClients: new PulpServerClients(db, config),
      ldap,
      logger,
    });
    const host = options.host ?? DEFAULT_API_HOST;
    const server = await startApiServer(app, { host, port: options.port ?? DEFAULT_API_PORT });
    logger.info('api listening', { host: server.address.address, port: server.address.port });
    return {
      server,
      async stop() {
        await server.close();
        await closeDatabase(db);
        await connection.close();
        logger.info('api stopped');
      },
    };
  } catch (err) {
    await closeDatabase(db);
    await temporal?.connection.close();
    throw err;
  }
}
