import type { Client } from '@temporalio/client';
import type { AppConfig } from '../config/loadAppConfig.js';
import type { Database } from '../db/client.js';
import { createChildWorkflowWatchActivities } from './childWorkflowWatch.js';
import { createRepoSelectionActivities } from './db/repoSelectionActivities.js';
import { createServerRepoActivities } from './db/serverRepoActivities.js';
import { createStaleTaskActivities } from './db/staleTaskActivities.js';
import { createTaskActivities } from './db/taskActivities.js';
import { createRegistrationActivities } from './pulp/registrationActivities.js';
import { createRemovalActivities } from './pulp/removalActivities.js';
import { createRepoConfigActivities } from './pulp/repoConfigActivities.js';
import type { PulpServerClients } from './pulp/serverClients.js';
import { createSnapshotActivities } from './pulp/snapshotActivities.js';
import { createPulpSyncActivities, createRepoSyncSteps } from './pulp/syncActivities.js';
import { createRepoSyncPipeline } from './repoSyncPipeline.js';

export interface ActivityDeps {
  config: AppConfig;
  db: Database;
  pulpClients: PulpServerClients;
  /**
   * Temporal client of the worker's namespace: the stale-task sweeper describes executions; a
   * group run awaits the repo syncs the run before it handed over.
   */
  temporal: Client;
}

/**
 * Every activity the worker registers. Workflows import only the type of this object
 * (`import type`), never the implementations.
 */
export function createActivities({ config, db, pulpClients, temporal }: ActivityDeps) {
  const pulp = config.ini.pulp;
  const syncSettings = {
    bannedPackageRegex: pulp.banned_package_regex,
    internalDomains: pulp.internal_domains,
    debSigningService: pulp.deb_signing_service,
  };
  const tasks = createTaskActivities(db);
  const repos = createServerRepoActivities(db, pulpClients);
  return {
    ...tasks,
    ...repos,
    ...createRepoSyncPipeline({
      db,
      clients: pulpClients,
      steps: createRepoSyncSteps(pulpClients, syncSettings),
      tasks,
      repos,
    }),
    ...createPulpSyncActivities(pulpClients, syncSettings),
    ...createRegistrationActivities(pulpClients, {
      useHttpsForSync: pulp.use_https_for_sync,
      internalDomains: pulp.internal_domains,
      remoteTlsValidation: pulp.remote_tls_validation,
      rootCaFile: config.ini.ca.root_ca_file_path,
      sockConnectTimeout: config.ini.remotes.sock_connect_timeout,
      sockReadTimeout: config.ini.remotes.sock_read_timeout,
    }),
    ...createRepoSelectionActivities(db),
    ...createStaleTaskActivities(db, temporal),
    ...createChildWorkflowWatchActivities(temporal),
    ...createRepoConfigActivities(pulpClients, config),
    ...createSnapshotActivities(pulpClients, config),
    ...createRemovalActivities(pulpClients),
  };
}

export type Activities = ReturnType<typeof createActivities>;
