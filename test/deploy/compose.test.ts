import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { runTool } from '../metrics/support.js';

// `docker compose config` validates docker-compose.yml against the Compose specification and
// interpolates it, offline (no engine). The docker CLI is on this kind of machine; its compose
// plugin is installed by deploy/install-compose.sh.

const root = fileURLToPath(new URL('../../', import.meta.url));
const INSTALL = 'bash deploy/install-compose.sh';
const secrets = {
  JWT_SECRET: 'test-jwt-secret',
  DB_PASSWORD: 'test-db-password',
  MYSQL_ROOT_PASSWORD: 'test-root',
  TEMPORAL_DB_PASSWORD: 'test-temporal-db',
};

function compose(args: string[], env: Record<string, string | undefined> = secrets) {
  // Only the variables given here: the developer's own JWT_SECRET must not mask a missing one.
  const clean = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !Object.keys(secrets).includes(k)),
  );
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve, reject) => {
    import('node:child_process').then(({ execFile }) => {
      execFile(
        'docker',
        ['compose', '-f', 'docker-compose.yml', ...args],
        { cwd: root, env: { ...clean, ...env }, maxBuffer: 16 * 1024 * 1024 },
        (err, stdout, stderr) => {
          const e = err as (NodeJS.ErrnoException & { code?: number | string }) | null;
          if (e?.code === 'ENOENT')
            reject(new Error(`the docker CLI is not on PATH: install it, then run \`${INSTALL}\``));
          else resolve({ code: e ? Number(e.code ?? 1) : 0, stdout, stderr });
        },
      );
    }, reject);
  });
}

// biome-ignore lint/suspicious/noExplicitAny: the resolved compose model is untyped JSON
type Model = { services: Record<string, any>; volumes: Record<string, unknown> };
let model: Model;

beforeAll(async () => {
  const version = await runTool('docker', ['compose', 'version'], { installHint: INSTALL });
  if (version.code !== 0 || !/version v2\./.test(version.stdout)) {
    throw new Error(
      `docker compose (v2 plugin) is missing: run \`${INSTALL}\`\n${version.stdout}${version.stderr}`,
    );
  }
  const r = await compose(['--profile', 'monitoring', 'config', '--format', 'json']);
  expect(r.code, r.stderr).toBe(0);
  model = JSON.parse(r.stdout) as Model;
});

describe('docker-compose.yml', () => {
  it('`docker compose config -q` accepts it', async () => {
    const r = await compose(['config', '-q']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });

  it('refuses to start without the secrets instead of running with a default', async () => {
    const r = await compose(['config', '-q'], { ...secrets, JWT_SECRET: undefined });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('required variable JWT_SECRET is missing a value');
  });

  it('runs Temporal as a cluster on PostgreSQL with mTLS (schema, four services, namespace), its Web UI, and MySQL', () => {
    const s = model.services;
    expect(s.mysql.image).toMatch(/^mysql:8/);
    expect(s.postgresql.image).toMatch(/^postgres:/);
    expect(s['temporal-schema'].command).toEqual(['/scripts/setup-postgresql.sh']);
    expect(s['temporal-schema'].environment).toMatchObject({ POSTGRES_SEEDS: 'postgresql' });
    for (const role of ['frontend', 'history', 'matching', 'worker']) {
      const svc = s[`temporal-${role}`];
      expect(svc.image, role).toMatch(/^temporalio\/server:/);
      expect(svc.environment, role).toMatchObject({
        SERVICES: role,
        POSTGRES_SEEDS: 'postgresql',
        POSTGRES_PWD: secrets.TEMPORAL_DB_PASSWORD,
        TEMPORAL_TLS_CA_CERT: '/run/secrets/temporal-ca.pem',
        TEMPORAL_TLS_SERVER_CERT: '/run/secrets/temporal-server.pem',
      });
      expect(svc.depends_on['temporal-schema'].condition, role).toBe('service_completed_successfully');
      const config = svc.volumes.find(
        (v: { target: string }) => v.target === '/etc/temporal/config/docker.yaml',
      );
      expect(config?.source, role).toMatch(/deploy\/compose\/temporal\/server\.yaml$/);
      const mounted = svc.secrets.map((x: { source: string }) => x.source);
      expect(mounted, role).toEqual(
        expect.arrayContaining(['temporal-ca.pem', 'temporal-server.pem', 'temporal-server.key']),
      );
    }
    expect(s['temporal-namespace'].command).toEqual(['/scripts/create-namespace.sh']);
    expect(s['temporal-ui'].image).toMatch(/^temporalio\/ui:/);
    expect(s['temporal-ui'].environment).toMatchObject({
      TEMPORAL_ADDRESS: 'temporal-frontend:7233',
      TEMPORAL_TLS_CERT: '/run/secrets/temporal-client.pem',
    });
  });

  it('runs api, worker and exporter from the project image with the seed config paths and DB/JWT env', () => {
    const s = model.services;
    const roles = { api: 'api', worker: 'worker', exporter: 'exporter', migrate: 'migrate' };
    for (const [name, role] of Object.entries(roles)) {
      const svc = s[name];
      expect(svc.image, name).toBe('pulp-manager:local');
      expect(svc.build.dockerfile, name).toBe('Dockerfile');
      expect(svc.command[0], name).toBe(role);
      const targets = Object.fromEntries(
        svc.volumes.map((v: { target: string; source: string }) => [v.target, v]),
      );
      for (const file of ['config.ini', 'pulp_config.yml']) {
        const mount = targets[`/etc/pulp_manager/${file}`];
        expect(mount, `${name} ${file}`).toMatchObject({ type: 'bind', read_only: true });
        expect(existsSync(mount.source), mount.source).toBe(true);
      }
      // The client certificate config.ini's [temporal] tls_* settings name.
      expect(
        svc.secrets.map((x: { source: string; target: string }) => x.target),
        name,
      ).toEqual(
        expect.arrayContaining(['/run/secrets/temporal-client.pem', '/run/secrets/temporal-client.key']),
      );
      expect(svc.environment, name).toMatchObject({
        PULP_MANAGER_CONFIG_PATH: '/etc/pulp_manager/config.ini',
        PULP_SYNC_CONFIG_PATH: '/etc/pulp_manager/pulp_config.yml',
        DB_HOSTNAME: 'mysql',
        DB_PORT: '3306',
        DB_NAME: 'pulp_manager',
        DB_USER: 'pulp_manager',
        DB_PASSWORD: secrets.DB_PASSWORD,
        JWT_SECRET: secrets.JWT_SECRET,
      });
    }
    // The database user the services log in as is the one MySQL creates.
    expect(s.mysql.environment).toMatchObject({
      MYSQL_DATABASE: 'pulp_manager',
      MYSQL_USER: 'pulp_manager',
      MYSQL_PASSWORD: secrets.DB_PASSWORD,
    });
    for (const name of ['api', 'worker', 'exporter']) {
      expect(s[name].depends_on.migrate.condition, name).toBe('service_completed_successfully');
      expect(s[name].depends_on['temporal-namespace'].condition, name).toBe('service_completed_successfully');
    }
    // Workers scale with --scale: no fixed container name or host port.
    expect(s.worker.container_name).toBeUndefined();
    expect(s.worker.ports).toBeUndefined();
  });

  it('has health checks on the ports each role serves', () => {
    const s = model.services;
    const check = (name: string) => (s[name].healthcheck?.test ?? []).join(' ');
    expect(check('mysql')).toContain('mysqladmin ping');
    expect(check('postgresql')).toContain('pg_isready');
    expect(check('temporal-frontend')).toContain('7233');
    expect(check('api')).toContain('http://127.0.0.1:8080/ready');
    expect(check('exporter')).toContain('http://127.0.0.1:9300/ready');
    expect(check('worker')).toContain('http://127.0.0.1:9464/metrics');
    expect(s.api.ports[0]).toMatchObject({ target: 8080 });
    expect(s.exporter.ports[0]).toMatchObject({ target: 9300 });
    expect(s.exporter.command).toEqual(['exporter', '--host', '0.0.0.0', '--port', '9300']);
  });

  it('mounts files that exist, and the monitoring profile wires Prometheus to the alert rules', () => {
    for (const [name, svc] of Object.entries(model.services)) {
      for (const v of svc.volumes ?? []) {
        if (v.type === 'bind') expect(existsSync(v.source), `${name}: ${v.source}`).toBe(true);
      }
    }
    expect(model.services.prometheus.profiles).toEqual(['monitoring']);
    const promMounts = model.services.prometheus.volumes.map((v: { target: string }) => v.target);
    expect(promMounts).toEqual(
      expect.arrayContaining(['/etc/prometheus/prometheus.yml', '/etc/prometheus/alerts.yml']),
    );
    expect(model.services.grafana.profiles).toEqual(['monitoring']);
  });
});
