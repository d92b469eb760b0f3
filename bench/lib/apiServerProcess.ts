// The child side of forkApiServer(): `pulp-manager api` (runApiServer with its real
// dependencies) on an ephemeral port, reporting the port over IPC and stopping on 'stop' or
// when the parent goes away.

import { jsonLogger } from '../../api/logging.js';
import { type RunningApi, runApiServer } from '../../api/runApiServer.js';
import { type AppConfig, parseIniConfig } from '../../config/loadAppConfig.js';
import { formatIni } from '../../config/pythonIni.js';
import { type BenchApiConfig, CONFIG_ENV, type ServerMessage } from './forkApiServer.js';

function configFromEnv(): AppConfig {
  const raw = process.env[CONFIG_ENV];
  if (raw === undefined)
    throw new Error(`${CONFIG_ENV} is not set: this process is started by forkApiServer()`);
  const bench = JSON.parse(raw) as BenchApiConfig;
  return {
    configPath: 'bench/config.ini',
    pulpConfigPath: 'bench/pulp_config.yml',
    ini: parseIniConfig(formatIni(bench.ini), 'bench/config.ini'),
    database: bench.database,
    jwtSecret: bench.jwtSecret,
    localAuth: true,
  };
}

// Request logs are serialized as in production (their cost is part of a request) but dropped:
// at thousands of requests a second they would only fill a disk. Warnings and errors are kept.
const json = jsonLogger(() => undefined);
const stderr = jsonLogger((line) => process.stderr.write(line));
const logger = { info: json.info, warn: stderr.warn, error: stderr.error };

const send = (msg: ServerMessage) => process.send?.(msg);

let api: RunningApi | undefined;
async function stop(): Promise<void> {
  try {
    await api?.stop();
  } finally {
    process.exit(0);
  }
}

try {
  api = await runApiServer(configFromEnv(), { host: '127.0.0.1', port: 0, logger });
  process.on('message', (msg) => {
    if (msg === 'stop') void stop();
  });
  process.on('disconnect', () => void stop());
  send({ listening: api.server.address.port });
} catch (err) {
  send({ failed: err instanceof Error ? err.message : String(err) });
  process.exit(1);
}
