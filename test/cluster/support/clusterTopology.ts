import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import {
  freePort,
  type ServiceProcess,
  startServiceProcess,
  waitUntilReady,
} from '../../support/serviceProcess.js';
import { stack } from '../../support/stack.js';

/**
 * The production topology of issue 16 on one machine: the cluster profile of the stack
 * (dev/temporal-cluster.sh: four Temporal services on PostgreSQL, mTLS), and Pulp Manager as
 * separate processes: workers, API replicas behind nginx, the exporter, each started with the
 * same config.ini pointing at the cluster with the stack's client certificate.
 */

export const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));
const clusterScript = join(repoRoot, 'dev/temporal-cluster.sh');
const run = promisify(execFile);

export type ClusterEnv = Record<
  | 'TEMPORAL_SERVER_VERSION'
  | 'TEMPORAL_CLUSTER_ADDRESS'
  | 'TEMPORAL_CLUSTER_UI_URL'
  | 'TEMPORAL_CLUSTER_NAMESPACE'
  | 'TEMPORAL_CLUSTER_CA'
  | 'TEMPORAL_CLUSTER_CLIENT_CERT'
  | 'TEMPORAL_CLUSTER_CLIENT_KEY'
  | 'TEMPORAL_CLUSTER_UNTRUSTED_CLIENT_CERT'
  | 'TEMPORAL_CLUSTER_UNTRUSTED_CLIENT_KEY',
  string
>;

export async function clusterScriptRun(...args: string[]): Promise<string> {
  const { stdout } = await run('bash', [clusterScript, ...args], { maxBuffer: 10 * 1024 * 1024 });
  return stdout;
}

export async function clusterEnv(): Promise<ClusterEnv> {
  const vars: Record<string, string> = {};
  for (const line of (await clusterScriptRun('env')).split('\n')) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line);
    if (m?.[1] && m[2] !== undefined) vars[m[1]] = m[2];
  }
  return vars as ClusterEnv;
}

/** The pid dev/lib.sh's start_bg recorded for a cluster service (the fault test kills it). */
export async function clusterServicePid(service: string): Promise<number> {
  return Number(
    (await readFile(join(stack.stateDir, 'run', `temporal-cluster-${service}.pid`), 'utf8')).trim(),
  );
}

export interface TopologyFiles {
  dir: string;
  configIni: string;
  pulpConfig: string;
  /** What every Pulp Manager process of the topology gets on top of the test's environment. */
  env: Record<string, string>;
}

/**
 * config.ini: the dev stack's, with [temporal] pointing at the cluster over mTLS; pulp_config.yml:
 * the primary with one repo group (every repo of this run) and a schedule that never fires
 * during a test, so every replica has a schedule to apply at start-up.
 */
export async function writeTopologyFiles(opts: {
  cluster: ClusterEnv;
  taskQueue: string;
  database: string;
  groupName: string;
  regexInclude: string;
  cert?: { cert: string; key: string };
}): Promise<TopologyFiles> {
  const dir = await mkdtemp(join(tmpdir(), 'pm-cluster-'));
  const { cluster } = opts;
  const cert = opts.cert ?? {
    cert: cluster.TEMPORAL_CLUSTER_CLIENT_CERT,
    key: cluster.TEMPORAL_CLUSTER_CLIENT_KEY,
  };
  const source = await readFile(join(repoRoot, 'dev/config/config.ini'), 'utf8');
  const temporalSection = [
    '[temporal]',
    `address=${cluster.TEMPORAL_CLUSTER_ADDRESS}`,
    `namespace=${cluster.TEMPORAL_CLUSTER_NAMESPACE}`,
    `task_queue=${opts.taskQueue}`,
    'schedule_catchup_window=10m',
    `tls_cert_path=${cert.cert}`,
    `tls_key_path=${cert.key}`,
    `tls_ca_path=${cluster.TEMPORAL_CLUSTER_CA}`,
    '',
  ].join('\n');
  const ini = source.replace(/^\[temporal\]\n(?:[^[\n].*\n|\n)*/m, `${temporalSection}\n`);
  if (
    !ini.includes(`tls_ca_path=${cluster.TEMPORAL_CLUSTER_CA}`) ||
    ini.includes('17233') ||
    !ini.includes('[database]')
  ) {
    throw new Error('dev/config/config.ini: its [temporal] section could not be pointed at the cluster');
  }
  const configIni = join(dir, 'config.ini');
  await writeFile(configIni, ini);
  const pulpConfig = join(dir, 'pulp_config.yml');
  await writeFile(
    pulpConfig,
    [
      'pulp_servers:',
      `  ${stack.pulp.primary.name}:`,
      '    credentials: local',
      '    repo_groups:',
      `      ${opts.groupName}:`,
      '        schedule: "0 0 1 1 *"',
      '        max_concurrent_syncs: 2',
      '        max_runtime: "30m"',
      'credentials:',
      '  local:',
      '    username: admin',
      '    vault_service_account_mount: local-auth',
      'repo_groups:',
      `  ${opts.groupName}:`,
      `    regex_include: "${opts.regexInclude}"`,
      '',
    ].join('\n'),
  );
  await mkdir(join(dir, 'logs'), { recursive: true });
  return {
    dir,
    configIni,
    pulpConfig,
    env: {
      PULP_MANAGER_CONFIG_PATH: configIni,
      PULP_SYNC_CONFIG_PATH: pulpConfig,
      PULP_MANAGER_LOCAL_AUTH: 'true',
      DB_NAME: opts.database,
      DB_PASSWORD: stack.mariadb.password,
      JWT_SECRET: 'cluster-test-secret-long-enough-for-hs256-0123456789',
    },
  };
}

/** `pulp-manager <args>` as a child process with the topology's environment. */
export function startPulpManager(files: TopologyFiles, name: string, args: string[]): ServiceProcess {
  // env(1) adds the topology's variables: startServiceProcess passes the test's own environment.
  return startServiceProcess(
    name,
    'env',
    [
      ...Object.entries(files.env).map(([k, v]) => `${k}=${v}`),
      process.execPath,
      '--import',
      'tsx',
      join(repoRoot, 'cli/main.ts'),
      ...args,
    ],
    join(files.dir, 'logs', `${name}.log`),
  );
}

export async function logOf(proc: ServiceProcess): Promise<string> {
  return readFile(proc.logFile, 'utf8');
}

export async function waitForLogLine(proc: ServiceProcess, pattern: RegExp, timeoutMs = 180_000) {
  await waitUntilReady(proc, `log line ${pattern}`, async () => pattern.test(await logOf(proc)), timeoutMs);
}

/** A small nginx load balancer in front of the API replicas: round robin, next upstream on failure. */
export async function startLoadBalancer(
  files: TopologyFiles,
  upstreamPorts: number[],
): Promise<{ proc: ServiceProcess; url: string }> {
  const port = await freePort();
  const dir = join(files.dir, 'nginx');
  await mkdir(join(dir, 'tmp'), { recursive: true });
  const conf = join(dir, 'nginx.conf');
  await writeFile(
    conf,
    `worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 256; }
http {
  access_log ${dir}/access.log;
  client_body_temp_path ${dir}/tmp/body;
  proxy_temp_path ${dir}/tmp/proxy;
  fastcgi_temp_path ${dir}/tmp/fastcgi;
  uwsgi_temp_path ${dir}/tmp/uwsgi;
  scgi_temp_path ${dir}/tmp/scgi;
  upstream pulp_manager_api {
${upstreamPorts.map((p) => `    server 127.0.0.1:${p} max_fails=1 fail_timeout=30s;`).join('\n')}
  }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://pulp_manager_api;
      proxy_connect_timeout 2s;
      # A replica that dies mid-request: the request goes to the next one (GET and POST alike:
      # the API starts workflows with ids that make a repeated POST harmless).
      proxy_next_upstream error timeout http_502 http_503 non_idempotent;
      proxy_set_header Host $http_host;
    }
  }
}
`,
  );
  const proc = startServiceProcess(
    'nginx',
    'nginx',
    ['-c', conf, '-p', dir, '-g', 'daemon off;'],
    join(files.dir, 'logs', 'nginx.log'),
  );
  const url = `http://127.0.0.1:${port}`;
  await waitUntilReady(proc, 'nginx listening', async () => (await fetch(`${url}/health`)).ok, 60_000);
  return { proc, url };
}

/** A Temporal client over mTLS with the stack's client certificate (the tests' own view). */
export async function clusterClient(cluster: ClusterEnv): Promise<Client> {
  const [ca, crt, key] = await Promise.all(
    [
      cluster.TEMPORAL_CLUSTER_CA,
      cluster.TEMPORAL_CLUSTER_CLIENT_CERT,
      cluster.TEMPORAL_CLUSTER_CLIENT_KEY,
    ].map((f) => readFile(f)),
  );
  const connection = await Connection.connect({
    address: cluster.TEMPORAL_CLUSTER_ADDRESS,
    tls: { serverRootCACertificate: ca, clientCertPair: { crt: crt as Buffer, key: key as Buffer } },
  });
  return new Client({ connection, namespace: cluster.TEMPORAL_CLUSTER_NAMESPACE });
}
