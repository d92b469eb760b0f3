import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { PROMTOOL_HINT, runTool } from '../metrics/support.js';
import { knownSeriesNames, seriesNamesIn } from './metricNames.js';

const promDir = fileURLToPath(new URL('../../deploy/prometheus/', import.meta.url));
const promtool = (args: string[], cwd = promDir) =>
  runTool('promtool', args, { cwd, installHint: PROMTOOL_HINT });

interface Rule {
  alert?: string;
  record?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

let rules: Rule[];
let known: Set<string>;

beforeAll(async () => {
  const doc = parse(await readFile(join(promDir, 'alerts.yml'), 'utf8')) as { groups: { rules: Rule[] }[] };
  rules = doc.groups.flatMap((g) => g.rules);
  known = await knownSeriesNames();
});

describe('Prometheus alert rules (deploy/prometheus)', () => {
  it('promtool check rules accepts alerts.yml', async () => {
    const r = await promtool(['check', 'rules', 'alerts.yml']);
    expect(r.stdout + r.stderr, r.stderr).toMatch(/SUCCESS: \d+ rules found/);
    expect(r.code).toBe(0);
  });

  it('promtool test rules: the alerts fire (and stay quiet) on exporter- and worker-shaped series', async () => {
    const r = await promtool(['test', 'rules', 'alerts.test.yml']);
    expect(r.stdout + r.stderr).toContain('SUCCESS');
    expect(r.code, r.stdout + r.stderr).toBe(0);
  });

  it('promtool check config accepts the compose prometheus.yml with its rule file', async () => {
    const r = await promtool(['check', 'config', 'prometheus.yml']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
  });

  it('covers red rollup, stale repos, paused schedules and worker down, each with severity and summary', () => {
    const names = rules.map((r) => r.alert);
    expect(names).toEqual(
      expect.arrayContaining([
        'PulpManagerSyncHealthRollupRed',
        'PulpManagerRepoNotSynced',
        'PulpManagerSchedulePaused',
        'PulpManagerWorkerDown',
        'PulpManagerNoWorkerUp',
      ]),
    );
    for (const rule of rules) {
      expect(['warning', 'critical'], rule.alert).toContain(rule.labels?.severity);
      expect(rule.annotations?.summary, rule.alert).toBeTruthy();
      expect(rule.for, rule.alert).toMatch(/^\d+[mh]$/);
    }
  });

  it('queries only series that the exporter, the worker SDK or Prometheus really expose', () => {
    for (const rule of rules) {
      const used = seriesNamesIn(rule.expr);
      expect(used.length, `${rule.alert}: ${rule.expr}`).toBeGreaterThan(0);
      for (const name of used) expect(known, `${rule.alert} uses ${name}`).toContain(name);
    }
    // The worker alerts use the job names of prometheus.yml.
    const workerRules = rules.filter((r) => r.alert?.includes('Worker'));
    for (const r of workerRules) expect(r.expr).toContain('job="pulp-manager-worker"');
  });

  it('scrapes the exporter and the workers under the job names the alerts use', async () => {
    const config = parse(await readFile(join(promDir, 'prometheus.yml'), 'utf8')) as {
      scrape_configs: { job_name: string }[];
    };
    expect(config.scrape_configs.map((s) => s.job_name)).toEqual(
      expect.arrayContaining(['pulp-manager-exporter', 'pulp-manager-worker']),
    );
  });
});

describe('PromQL of the Grafana dashboard', () => {
  it('parses (promtool, as recording rules) and uses only exposed series', async () => {
    const dashboard = JSON.parse(
      await readFile(
        fileURLToPath(new URL('../../deploy/grafana/dashboards/pulp-manager.json', import.meta.url)),
        'utf8',
      ),
    ) as { panels: { title: string; targets?: { expr: string }[] }[] };
    const exprs = dashboard.panels.flatMap((p) =>
      (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr })),
    );
    expect(exprs.length).toBeGreaterThan(10);
    for (const { panel, expr } of exprs)
      for (const name of seriesNamesIn(expr)) expect(known, `panel "${panel}" uses ${name}`).toContain(name);
    // Grafana variables replaced by what Grafana would send, then checked by promtool's parser.
    const concrete = (e: string) => e.replaceAll('$server', '.*').replaceAll('$__rate_interval', '5m');
    const dir = await mkdtemp(join(tmpdir(), 'dashboard-promql-'));
    try {
      const file = join(dir, 'dashboard-rules.yml');
      const rulesDoc = {
        groups: [
          {
            name: 'dashboard',
            rules: exprs.map((e, i) => ({ record: `dashboard:expr_${i}`, expr: concrete(e.expr) })),
          },
        ],
      };
      await writeFile(file, JSON.stringify(rulesDoc));
      const r = await promtool(['check', 'rules', file], dir);
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(r.stdout).toContain(`SUCCESS: ${exprs.length} rules found`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
