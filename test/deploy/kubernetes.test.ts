import { execFile } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { parseIniConfig } from '../../config/loadAppConfig.js';
import { parsePulpConfig } from '../../config/loadPulpConfig.js';

// kubeconform and kubectl are not available offline: the manifests are parsed with `yaml` and
// checked for what the cluster would reject or what would break at run time.

const dir = fileURLToPath(new URL('../../deploy/kubernetes/', import.meta.url));
const repoFile = (p: string) => readFile(fileURLToPath(new URL(`../../${p}`, import.meta.url)), 'utf8');

// biome-ignore lint/suspicious/noExplicitAny: manifests are untyped YAML trees, narrowed by the assertions
type Doc = Record<string, any>;
interface Manifest {
  file: string;
  doc: Doc;
}

let manifests: Manifest[];
const byKind = (kind: string) => manifests.filter((m) => m.doc.kind === kind).map((m) => m.doc);
const deployment = (component: string) =>
  byKind('Deployment').find((d) => d.metadata.name === `pulp-manager-${component}`) as Doc;
const service = (component: string) =>
  byKind('Service').find((d) => d.metadata.name === `pulp-manager-${component}`);

beforeAll(async () => {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml');
  manifests = [];
  for (const file of files) {
    for (const d of parseAllDocuments(await readFile(`${dir}${file}`, 'utf8'))) {
      expect(d.errors, file).toEqual([]);
      const doc = d.toJS() as Doc | null;
      if (doc) manifests.push({ file, doc });
    }
  }
});

describe('Kubernetes manifests (deploy/kubernetes)', () => {
  it('every object has apiVersion, kind, a DNS-1123 name and the pulp-manager namespace', () => {
    expect(manifests.length).toBeGreaterThanOrEqual(8);
    for (const { file, doc } of manifests) {
      expect(doc.apiVersion, file).toMatch(/^(v1|apps\/v1)$/);
      expect(doc.kind, file).toBeTruthy();
      expect(doc.metadata?.name, file).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
      if (doc.kind !== 'Namespace')
        expect(doc.metadata.namespace, `${file} ${doc.metadata.name}`).toBe('pulp-manager');
    }
  });

  it('the kustomization lists exactly the manifest files', async () => {
    const k = parseAllDocuments(await readFile(`${dir}kustomization.yaml`, 'utf8'))[0]?.toJS() as Doc;
    const files = (await readdir(dir)).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml');
    expect([...k.resources].sort()).toEqual(files.sort());
    expect(k.images[0].name).toBe('pulp-manager');
  });

  it('api, worker and exporter Deployments run the one image in their role, selectors matching their pods', () => {
    const roles = { api: 'api', worker: 'worker', exporter: 'exporter' };
    for (const [component, role] of Object.entries(roles)) {
      const d = deployment(component);
      expect(d, component).toBeDefined();
      const labels = d.spec.template.metadata.labels;
      for (const [k, v] of Object.entries(d.spec.selector.matchLabels))
        expect(labels[k], `${component} ${k}`).toBe(v);
      const [main] = d.spec.template.spec.containers;
      expect(main.image).toBe('pulp-manager');
      expect(main.args[0]).toBe(role);
      expect(main.resources.requests).toBeDefined();
      expect(main.resources.limits.memory).toBeDefined();
      const [init] = d.spec.template.spec.initContainers;
      expect(init.args).toEqual(['migrate']);
    }
    expect(deployment('worker').spec.replicas).toBeGreaterThanOrEqual(2);
    // The exporter's histograms count per process (see exporter.yaml).
    expect(deployment('exporter').spec.replicas).toBe(1);
  });

  it('run as non-root, without privilege escalation, on a read-only root filesystem with /tmp writable', () => {
    for (const component of ['api', 'worker', 'exporter']) {
      const pod = deployment(component).spec.template.spec;
      expect(pod.securityContext).toMatchObject({
        runAsNonRoot: true,
        seccompProfile: { type: 'RuntimeDefault' },
      });
      expect(pod.securityContext.runAsUser).toBeGreaterThan(0);
      for (const c of [...pod.containers, ...pod.initContainers]) {
        expect(c.securityContext, `${component}/${c.name}`).toEqual({
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
          capabilities: { drop: ['ALL'] },
        });
        // git clones the repo-config repository under the OS temp dir.
        const tmp = c.volumeMounts.find((m: Doc) => m.mountPath === '/tmp');
        expect(
          pod.volumes.find((v: Doc) => v.name === tmp?.name)?.emptyDir,
          `${component}/${c.name}`,
        ).toEqual({});
      }
    }
  });

  it('api and exporter probe /health (liveness) and /ready (readiness) on a declared port; the worker its metrics port', () => {
    for (const component of ['api', 'exporter']) {
      const [c] = deployment(component).spec.template.spec.containers;
      const ports = c.ports.map((p: Doc) => p.name);
      expect(c.livenessProbe.httpGet.path, component).toBe('/health');
      expect(c.readinessProbe.httpGet.path, component).toBe('/ready');
      expect(c.startupProbe.httpGet.path, component).toBe('/health');
      for (const probe of [c.livenessProbe, c.readinessProbe, c.startupProbe])
        expect(ports, component).toContain(probe.httpGet.port);
    }
    const [w] = deployment('worker').spec.template.spec.containers;
    expect(w.ports).toEqual([{ name: 'metrics', containerPort: 9464 }]);
    expect(w.livenessProbe.httpGet).toEqual({ path: '/metrics', port: 'metrics' });
    expect(deployment('worker').spec.template.metadata.annotations['prometheus.io/port']).toBe('9464');
    // Longer than the worker's 30 s shutdownGraceTime, so running activities finish.
    expect(deployment('worker').spec.template.spec.terminationGracePeriodSeconds).toBeGreaterThan(30);
  });

  it('Services select the api and exporter pods and target a port the container declares', () => {
    for (const [component, port] of [
      ['api', 8080],
      ['exporter', 9300],
    ] as const) {
      const svc = service(component) as Doc;
      const d = deployment(component);
      const labels = d.spec.template.metadata.labels;
      for (const [k, v] of Object.entries(svc.spec.selector)) expect(labels[k], `${component} ${k}`).toBe(v);
      const [c] = d.spec.template.spec.containers;
      const target = svc.spec.ports[0].targetPort;
      expect(c.ports.find((p: Doc) => p.name === target)?.containerPort, component).toBe(port);
      expect(c.args, component).toEqual(expect.arrayContaining(['--port', String(port)]));
    }
  });

  it('config comes from the ConfigMap at /etc/pulp_manager and secrets from the Secret', () => {
    const secret = byKind('Secret').find((d) => d.metadata.name === 'pulp-manager-secrets') as Doc;
    expect(Object.keys(secret.stringData).sort()).toEqual(['DB_PASSWORD', 'JWT_SECRET']);
    const cm = byKind('ConfigMap')[0] as Doc;
    for (const component of ['api', 'worker', 'exporter']) {
      const pod = deployment(component).spec.template.spec;
      const configVolume = pod.volumes.find((v: Doc) => v.configMap);
      expect(configVolume.configMap.name).toBe(cm.metadata.name);
      for (const c of [...pod.containers, ...pod.initContainers]) {
        const where = `${component}/${c.name}`;
        const mount = c.volumeMounts.find((m: Doc) => m.name === configVolume.name);
        expect(mount, where).toMatchObject({ mountPath: '/etc/pulp_manager', readOnly: true });
        const env = Object.fromEntries(c.env.map((e: Doc) => [e.name, e]));
        expect(env.PULP_MANAGER_CONFIG_PATH.value, where).toBe('/etc/pulp_manager/config.ini');
        expect(env.PULP_SYNC_CONFIG_PATH.value, where).toBe('/etc/pulp_manager/pulp_config.yml');
        for (const key of ['DB_PASSWORD', 'JWT_SECRET'])
          expect(env[key].valueFrom.secretKeyRef, `${where} ${key}`).toEqual({
            name: secret.metadata.name,
            key,
          });
      }
    }
    // No secret in the ConfigMap.
    expect(cm.data['config.ini']).not.toMatch(/^\s*password\s*=/m);
  });

  it("the ConfigMap's files pass the project's own config validation and match deploy/config but for cluster addresses", async () => {
    const cm = byKind('ConfigMap')[0] as Doc;
    const ini = parseIniConfig(cm.data['config.ini'], 'configmap/config.ini');
    const composeIni = parseIniConfig(await repoFile('deploy/config/config.ini'), 'deploy/config/config.ini');
    expect(ini.temporal.address).toMatch(/\.svc\.cluster\.local:7233$/);
    expect(ini.database.host).toMatch(/\.svc\.cluster\.local$/);
    expect({ ...ini, temporal: undefined, database: undefined }).toEqual({
      ...composeIni,
      temporal: undefined,
      database: undefined,
    });
    expect({ ...ini.temporal, address: '' }).toEqual({ ...composeIni.temporal, address: '' });
    expect(cm.data['pulp_config.yml']).toBe(await repoFile('deploy/config/pulp_config.yml'));
    const fleet = parsePulpConfig(cm.data['pulp_config.yml'], 'configmap/pulp_config.yml');
    expect(Object.keys(fleet.pulp_servers).length).toBeGreaterThan(0);
  });

  it('the Temporal client certificate Secret is mounted where config.ini names it, in every role that talks to Temporal', () => {
    const tls = byKind('Secret').find((d) => d.metadata.name === 'pulp-manager-temporal-tls') as Doc;
    const cm = byKind('ConfigMap')[0] as Doc;
    const ini = parseIniConfig(cm.data['config.ini'], 'configmap/config.ini');
    const paths = [ini.temporal.tls_cert_path, ini.temporal.tls_key_path, ini.temporal.tls_ca_path];
    for (const path of paths) {
      expect(path).toMatch(/^\/run\/secrets\//);
      expect(Object.keys(tls.stringData), path).toContain(path?.slice('/run/secrets/'.length));
    }
    for (const component of ['api', 'worker', 'exporter']) {
      const pod = deployment(component).spec.template.spec;
      const volume = pod.volumes.find((v: Doc) => v.secret?.secretName === tls.metadata.name);
      expect(volume, component).toBeDefined();
      const mount = pod.containers[0].volumeMounts.find((m: Doc) => m.name === volume.name);
      expect(mount, component).toMatchObject({ mountPath: '/run/secrets', readOnly: true });
    }
  });

  it('`kustomize build` (the kustomize Go module, deploy/install-kustomize.sh) renders every manifest with the image set', async () => {
    const run = promisify(execFile);
    await run('bash', ['deploy/install-kustomize.sh'], {
      cwd: fileURLToPath(new URL('../../', import.meta.url)),
    });
    const bin = (await run('bash', ['deploy/install-kustomize.sh', 'bin'])).stdout.trim();
    const { stdout } = await run(bin, ['build', dir], { maxBuffer: 16 * 1024 * 1024 });
    const rendered = parseAllDocuments(stdout).map((d) => d.toJS() as Doc);
    const names = (docs: Doc[]) => docs.map((d) => `${d.kind}/${d.metadata.name}`).sort();
    expect(names(rendered)).toEqual(names(manifests.map((m) => m.doc)));
    for (const d of rendered.filter((x) => x.kind === 'Deployment')) {
      const pod = d.spec.template.spec;
      for (const c of [...pod.containers, ...(pod.initContainers ?? [])])
        expect(c.image, `${d.metadata.name}/${c.name}`).toBe('registry.example.com/pulp-manager:0.1.0');
    }
    for (const d of rendered.filter((x) => x.kind !== 'Namespace'))
      expect(d.metadata.namespace, d.metadata.name).toBe('pulp-manager');
  }, 600_000);
});
