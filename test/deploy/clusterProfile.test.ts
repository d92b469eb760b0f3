import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

// The deployment files and the cluster profile the tests run (dev/temporal-cluster.sh, issue 16)
// name the same Temporal release and the same client settings: a version bump in one place
// without the other fails here.
const root = fileURLToPath(new URL('../../', import.meta.url));
const read = (p: string) => readFileSync(`${root}${p}`, 'utf8');

const clusterScript = read('dev/temporal-cluster.sh');
const clusterVersion = /^TEMPORAL_SERVER_VERSION=v(\d+\.\d+\.\d+)$/m.exec(clusterScript)?.[1];
const compose = parse(read('docker-compose.yml'), { merge: true }) as {
  services: Record<string, { image?: string; ports?: string[]; environment?: Record<string, string> }>;
};
const imageDefault = (service: string) => {
  const image = compose.services[service]?.image ?? '';
  return /:\$\{[A-Z_]+:-([^}]+)\}$/.exec(image)?.[1] ?? image.split(':')[1];
};

describe('deployment files and the cluster profile', () => {
  it('the cluster profile pins a release', () => {
    expect(clusterVersion).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('docker-compose.yml runs the same Temporal server release, and admin-tools of that release', () => {
    for (const role of ['frontend', 'history', 'matching', 'worker'])
      expect(imageDefault(`temporal-${role}`), role).toBe(clusterVersion);
    expect(imageDefault('temporal-schema')).toMatch(new RegExp(`^${clusterVersion?.replace(/\./g, '\\.')}-`));
    expect(imageDefault('temporal-namespace')).toBe(imageDefault('temporal-schema'));
  });

  it('the frontend port clients use is the same in compose, kubernetes and the [temporal] default', () => {
    expect(compose.services['temporal-frontend']?.ports).toContain('127.0.0.1:7233:7233');
    expect(read('deploy/kubernetes/configmap.yaml')).toMatch(/^\s*address=[\w.-]+:7233$/m);
    expect(read('deploy/config/config.ini')).toMatch(/^address=[\w.-]+:7233$/m);
  });

  it('the namespaces get the search attributes the cluster profile creates', () => {
    const attrs = /^PM_SEARCH_ATTRIBUTES="([^"]+)"/m.exec(read('dev/temporal.sh'))?.[1]?.split(' ') ?? [];
    expect(attrs.length).toBeGreaterThan(0);
    expect(clusterScript).toContain('grep \'^PM_SEARCH_ATTRIBUTES=\' "$DEV_DIR/temporal.sh"');
    const namespaceScript = read('deploy/compose/temporal/create-namespace.sh');
    for (const a of attrs) expect(namespaceScript, a).toContain(a.split('=')[0] ?? a);
  });

  it('compose and the cluster profile run one server configuration, and both give it every setting it reads', () => {
    expect(clusterScript).toContain('deploy/compose/temporal/server.yaml');
    const template = read('deploy/compose/temporal/server.yaml');
    expect(template.split('\n')[0]).toBe('# enable-template');
    // Every variable the template reads without a default must be set by both.
    const required = [...template.matchAll(/\{\{ env "([A-Z_]+)"/g)].map((m) => m[1] as string);
    expect(required.length).toBeGreaterThan(5);
    const serverEnv = /^server_env\(\) \{([\s\S]*?)^\}/m.exec(clusterScript)?.[1] ?? '';
    const composeEnv = compose.services['temporal-frontend']?.environment ?? {};
    for (const name of new Set(required)) {
      if (name === 'TEMPORAL_BROADCAST_ADDRESS') continue; // the image's entrypoint sets it from the container's address
      if (name === 'PROMETHEUS_ENDPOINT') continue; // optional: metrics off when unset
      expect(serverEnv, `dev/temporal-cluster.sh server_env sets ${name}`).toContain(`${name}=`);
      expect(Object.keys(composeEnv), `docker-compose.yml sets ${name}`).toContain(name);
    }
  });
});
