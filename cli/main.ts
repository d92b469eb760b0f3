#!/usr/bin/env node
import type { Connection } from '@temporalio/client';
import { Command } from 'commander';
import { DEFAULT_API_HOST, DEFAULT_API_PORT, runApiServer } from '../api/runApiServer.js';
import { ConfigError } from '../config/errors.js';
import { loadAppConfig } from '../config/loadAppConfig.js';
import { closeDatabase, createDatabase } from '../db/client.js';
import { assertMigrated, migrateDatabase } from '../db/migrate.js';
import { originalConversionReport } from '../db/originalConversionReport.js';
import { DEFAULT_EXPORTER_HOST, DEFAULT_EXPORTER_PORT, runExporter } from '../metrics/exporter.js';
import {
  DEFAULT_WORKER_METRICS_HOST,
  DEFAULT_WORKER_METRICS_PORT,
  installWorkerTelemetry,
} from '../metrics/workerTelemetry.js';
import { connectTemporalClient } from '../temporal/connect.js';
import { ensureSearchAttributes } from '../temporal/ensureSearchAttributes.js';
import { connectWorkerConnection, createPulpManagerWorker } from '../temporal/worker.js';
import { applyConfiguration } from './applyConfiguration.js';
import {
  formatValidationReport,
  VALIDATE_PARTS,
  type ValidatePart,
  validateConfiguration,
} from './validateConfig.js';

const program = new Command()
  .name('pulp-manager')
  .description('Keeps a fleet of Pulp 3 servers in order (see README.md)')
  .showHelpAfterError();

program
  .command('migrate')
  .description(
    'apply the database migrations; a database of the original Pulp Manager (alembic) is converted in place first',
  )
  .action(async () => {
    const config = await loadAppConfig();
    const result = await migrateDatabase(config.database);
    for (const line of originalConversionReport(result.database, result.original)) console.log(line);
    console.log(
      result.applied.length === 0
        ? `database ${config.database.database} is up to date`
        : `applied ${result.applied.length} migration(s) to ${config.database.database}: ${result.applied.join(', ')}`,
    );
  });

const configCmd = program
  .command('config')
  .description('check config.ini, pulp_config.yml and the repo config, or apply pulp_config.yml');

configCmd
  .command('validate')
  .argument('[pulp_config]', 'pulp_config.yml (same as --pulp-config)')
  .option(
    '--config <file>',
    'config.ini (default: PULP_MANAGER_CONFIG_PATH, else /etc/pulp_manager/config.ini)',
  )
  .option(
    '--pulp-config <file>',
    'pulp_config.yml (default: PULP_SYNC_CONFIG_PATH, else /etc/pulp_manager/pulp_config.yml)',
  )
  .option(
    '--repo-config <dir|git-url>',
    'repo config: a directory holding remote/ and internal/, or a git URL to clone (default: [pulp] local_repo_config_dir, else git_repo_config)',
  )
  .option('--git-dir <folder>', 'folder inside the git repository (default: [pulp] git_repo_config_dir)')
  .option('--skip <parts>', `leave out some of: ${VALIDATE_PARTS.join(', ')} (comma separated)`)
  .description(
    'check config.ini, pulp_config.yml and the repo config offline (no database, Temporal or Pulp) and report every problem with its file and key',
  )
  .addHelpText(
    'after',
    [
      '',
      'What is checked:',
      '  config.ini       read as Python configparser reads it; every value this design uses is',
      '                   validated (types, regexes in Python re syntax); settings it does not use',
      '                   ([redis], unknown sections and keys, ${...} placeholders) are notices;',
      '                   PULP_MANAGER_CA_FILE and Is_local are applied as at start-up',
      '  pulp_config.yml  servers, credentials, repo groups, cron schedules, max_runtime, regexes,',
      '                   and the references between them',
      '  repo config      a directory, or a git URL cloned to a temporary directory: every',
      '                   repository file and global.json, with the rules of config.ini; unknown',
      '                   keys are notices',
      '',
      'Exit status: 0 when there is no problem (notices allowed), 2 when there is one, 1 when the',
      'check itself failed.',
    ].join('\n'),
  )
  .action(
    async (
      file: string | undefined,
      opts: { config?: string; pulpConfig?: string; repoConfig?: string; gitDir?: string; skip?: string },
    ) => {
      const skip = new Set<ValidatePart>();
      for (const part of (opts.skip ?? '')
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)) {
        if (!(VALIDATE_PARTS as readonly string[]).includes(part)) {
          throw new Error(`--skip: unknown part "${part}" (use ${VALIDATE_PARTS.join(', ')})`);
        }
        skip.add(part as ValidatePart);
      }
      const report = await validateConfiguration({
        configIni: opts.config,
        pulpConfig: opts.pulpConfig ?? file,
        repoConfig: opts.repoConfig,
        gitDir: opts.gitDir,
        skip,
      });
      for (const line of formatValidationReport(report)) console.log(line);
      if (report.issues.length > 0) process.exitCode = 2;
    },
  );

configCmd
  .command('apply')
  .option('--dry-run', 'print what would change without changing anything')
  .description('make the database and the Temporal Schedules equal to pulp_config.yml')
  .action(async (opts: { dryRun?: boolean }) => {
    const config = await loadAppConfig();
    const db = createDatabase(config.database);
    const temporal = await connectTemporalClient(config.ini.temporal);
    try {
      await assertMigrated(db);
      const result = await applyConfiguration(config, { db, temporal }, { dryRun: opts.dryRun });
      const verb = opts.dryRun ? 'would change' : 'changed';
      if (result.lines.length === 0)
        console.log('nothing to change: the database and the schedules match the config');
      else console.log(`${verb}:\n${result.lines.map((l) => `  ${l}`).join('\n')}`);
    } finally {
      await temporal.connection.close();
      await closeDatabase(db);
    }
  });

program
  .command('worker')
  .description('apply the config, then run the Temporal worker (workflows and activities)')
  .option(
    '--metrics-port <port>',
    'serve the Temporal SDK metrics at :<port>/metrics (0: off)',
    String(DEFAULT_WORKER_METRICS_PORT),
  )
  .option('--metrics-host <host>', 'address the SDK metrics listen on', DEFAULT_WORKER_METRICS_HOST)
  .action(async (opts: { metricsPort: string; metricsHost: string }) => {
    // Runtime.install must precede every NativeConnection/Worker in the process.
    if (Number(opts.metricsPort) > 0) {
      installWorkerTelemetry(Number(opts.metricsPort), { host: opts.metricsHost });
    }
    const config = await loadAppConfig();
    await applyAtStartup(config);
    const db = createDatabase(config.database);
    const connection = await connectWorkerConnection(config);
    const worker = await createPulpManagerWorker({ config, db }, connection);
    const stop = () => worker.shutdown();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    console.log(
      `worker polling ${config.ini.temporal.namespace}/${config.ini.temporal.task_queue} at ${config.ini.temporal.address}`,
    );
    await worker.run();
    await connection.close();
    await closeDatabase(db);
  });

/** Applies pulp_config.yml at start-up, as the original did, and logs what changed. */
async function applyAtStartup(config: Awaited<ReturnType<typeof loadAppConfig>>): Promise<void> {
  const db = createDatabase(config.database);
  const temporal = await connectTemporalClient(config.ini.temporal);
  try {
    await assertMigrated(db);
    const added = await ensureSearchAttributes(
      temporal.connection as Connection,
      config.ini.temporal.namespace,
    );
    if (added.length > 0) console.log(`temporal: added search attributes ${added.join(', ')}`);
    const applied = await applyConfiguration(config, { db, temporal });
    for (const line of applied.lines) console.log(`config: ${line}`);
  } finally {
    await temporal.connection.close();
    await closeDatabase(db);
  }
}

program
  .command('api')
  .description('apply the config, then serve the REST API (OpenAPI at /openapi.json, Swagger UI at /docs)')
  .option('--host <host>', 'address to listen on', DEFAULT_API_HOST)
  .option('--port <port>', 'port to listen on', String(DEFAULT_API_PORT))
  .action(async (opts: { host: string; port: string }) => {
    const config = await loadAppConfig();
    await applyAtStartup(config);
    const api = await runApiServer(config, { host: opts.host, port: Number(opts.port) });
    console.log(`api listening on http://${opts.host}:${opts.port}`);
    const stop = () => void api.stop().then(() => process.exit(0));
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });

program
  .command('exporter')
  .description(
    'serve Prometheus metrics (sync health, tasks, Pulp status, schedules) at /metrics, kept ready by a background rebuild ([exporter] in config.ini)',
  )
  .option('--host <host>', 'address to listen on', DEFAULT_EXPORTER_HOST)
  .option('--port <port>', 'port to listen on', String(DEFAULT_EXPORTER_PORT))
  .action(async (opts: { host: string; port: string }) => {
    const config = await loadAppConfig();
    const exporter = await runExporter(config, { host: opts.host, port: Number(opts.port) });
    console.log(`exporter listening on http://${opts.host}:${exporter.address.port}/metrics`);
    const stop = () => void exporter.stop().then(() => process.exit(0));
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });

function reportAndExit(err: unknown): never {
  if (err instanceof ConfigError) {
    console.error(err.message);
    process.exit(2);
  }
  const code = (err as { code?: string }).code;
  console.error(`pulp-manager: ${code ? `${code}: ` : ''}${(err as Error).message ?? String(err)}`);
  process.exit(1);
}

program.parseAsync(process.argv).catch(reportAndExit);
