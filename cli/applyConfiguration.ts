import type { Client } from '@temporalio/client';
import type { AppConfig } from '../config/loadAppConfig.js';
import { loadPulpConfig } from '../config/loadPulpConfig.js';
import { applyFleetConfig } from '../db/applyFleetConfig.js';
import type { Database } from '../db/client.js';
import { withNamedLock } from '../db/namedLock.js';
import { desiredSchedules } from '../temporal/desiredSchedules.js';
import {
  applySchedulePlan,
  describeSchedulePlan,
  planSchedules,
  type SchedulePlan,
} from '../temporal/reconcileSchedules.js';

/** How long a replica waits for another one's apply (one apply takes well under a second). */
const APPLY_LOCK_WAIT_SECONDS = 120;

export interface ApplyResult {
  dbChanges: string[];
  schedulePlan: SchedulePlan;
  /** One line per change, DB then schedules; empty when the config is already applied. */
  lines: string[];
}

/**
 * Makes the database and the Temporal Schedules equal to pulp_config.yml. The database goes
 * first (one transaction): schedules start workflows that read it. With dryRun nothing changes
 * and the lines say what would. Replicas starting at the same time take turns (a named lock):
 * the first applies, the others find nothing left to change.
 */
export async function applyConfiguration(
  config: AppConfig,
  deps: { db: Database; temporal: Client },
  opts: { dryRun?: boolean } = {},
): Promise<ApplyResult> {
  const fleet = await loadPulpConfig(config.pulpConfigPath);
  return withNamedLock(
    deps.db,
    `pulp_manager.apply.${config.database.database}`,
    APPLY_LOCK_WAIT_SECONDS,
    async () => {
      const dbChanges = await applyFleetConfig(deps.db, fleet, { dryRun: opts.dryRun });
      const schedulePlan = await planSchedules(deps.temporal, desiredSchedules(fleet, config.ini));
      if (!opts.dryRun) await applySchedulePlan(deps.temporal, schedulePlan);
      return { dbChanges, schedulePlan, lines: [...dbChanges, ...describeSchedulePlan(schedulePlan)] };
    },
  );
}
