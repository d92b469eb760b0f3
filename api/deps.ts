import type { Client } from '@temporalio/client';
import type { PulpServerClients } from '../activities/pulp/serverClients.js';
import type { AppConfig } from '../config/loadAppConfig.js';
import type { Database } from '../db/client.js';
import type { LdapAuthenticator } from './auth/ldapAuthenticator.js';
import type { TokenClaims } from './auth/tokens.js';
import type { ApiLogger } from './logging.js';

/** Everything the API talks to, built once by the caller (the CLI, or a test). */
export interface ApiDeps {
  config: AppConfig;
  db: Database;
  temporal: Client;
  pulpClients: PulpServerClients;
  ldap: LdapAuthenticator;
  /** Structured request and error logs; JSON lines on stdout when absent. */
  logger?: ApiLogger;
}

/** Hono's per-request variables of this API. */
export interface ApiEnv {
  Variables: {
    requestId: string;
    /** The caller, set by requireAdmin on mutating routes. */
    user?: TokenClaims;
  };
}
