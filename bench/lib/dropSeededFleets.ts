// bench/run.sh, at the end of a run: drops the seeded databases the benchmarks shared.
import { dropSeededFleetDatabases } from './seededFleetDatabase.js';

const dropped = await dropSeededFleetDatabases();
console.log(
  `[bench] dropped ${dropped.length} seeded database(s)${dropped.length > 0 ? `: ${dropped.join(', ')}` : ''}`,
);
