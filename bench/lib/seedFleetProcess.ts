// Seeds (or finds) the shared database of one fleet size in a process of its own, so that the
// benchmark that asked for it does not carry the planner's memory in the RSS it reports.
// Usage: npx tsx bench/lib/seedFleetProcess.ts 100k|1m

import { seededFleetDatabase } from './seededFleetDatabase.js';
import { LARGE_FLEET, YEAR_FLEET } from './seedLargeFleet.js';

const arg = process.argv[2];
if (arg !== '100k' && arg !== '1m')
  throw new Error(`seedFleetProcess: size must be 100k or 1m, not ${String(arg)}`);
process.env.BENCH_SHARED_SEED = '1';
const seeded = await seededFleetDatabase(arg === '1m' ? YEAR_FLEET : LARGE_FLEET);
console.log(
  `[seed] ${seeded.reused ? 'found' : `seeded in ${seeded.seedSeconds.toFixed(0)} s`}: ${seeded.settings.database}`,
);
