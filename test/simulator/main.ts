import { type SimulatorOptions, startPulpSimulator } from './pulpApiSimulator.js';

/**
 * Runs the Pulp API simulator (a test double) as its own process, so that a benchmark measures
 * the worker's CPU and memory without the simulator's. Options come as JSON in argv[2]; the
 * first stdout line is {"url", "serverName"}; control it over /_simulator/*; SIGTERM stops it.
 */
const options = JSON.parse(process.argv[2] ?? '{}') as SimulatorOptions;
const simulator = await startPulpSimulator(options);
process.stdout.write(`${JSON.stringify({ url: simulator.url, serverName: simulator.serverName })}\n`);
const stop = () => {
  void simulator.close().then(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
