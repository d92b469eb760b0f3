import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const file = (p: string) => fileURLToPath(new URL(`../../deploy/grafana/${p}`, import.meta.url));

interface Panel {
  id: number;
  type: string;
  title: string;
  gridPos: { h: number; w: number; x: number; y: number };
  datasource?: { type: string; uid: string };
  targets?: { refId: string; expr: string; datasource?: { uid: string } }[];
}

interface Dashboard {
  uid: string;
  title: string;
  schemaVersion: number;
  panels: Panel[];
  templating: { list: { name: string; type: string; query: unknown }[] };
}

async function dashboard(): Promise<Dashboard> {
  return JSON.parse(await readFile(file('dashboards/pulp-manager.json'), 'utf8')) as Dashboard;
}

/** Grafana's reference to the dashboard's data source variable (a Grafana string, not a JS template). */
const DATASOURCE_VARIABLE = ['$', '{datasource}'].join('');

describe('Grafana dashboard (deploy/grafana)', () => {
  it('is an importable dashboard: uid, schema version, unique panel ids, panels inside the 24-column grid', async () => {
    const d = await dashboard();
    expect(d.uid).toBe('pulp-manager');
    expect(d.title).toBe('Pulp Manager');
    expect(d.schemaVersion).toBeGreaterThanOrEqual(36);
    const ids = d.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const p of d.panels) {
      expect(p.gridPos.x + p.gridPos.w, p.title).toBeLessThanOrEqual(24);
      expect(p.gridPos.h, p.title).toBeGreaterThan(0);
    }
  });

  it('every query goes to the data source variable, so it imports into any Grafana', async () => {
    const d = await dashboard();
    const variables = d.templating.list.map((v) => `${v.name}:${v.type}`);
    expect(variables).toEqual(expect.arrayContaining(['datasource:datasource', 'server:query']));
    for (const p of d.panels.filter((x) => x.type !== 'row')) {
      expect(p.datasource?.uid, p.title).toBe(DATASOURCE_VARIABLE);
      const refIds = (p.targets ?? []).map((t) => t.refId);
      expect(refIds.length, p.title).toBeGreaterThan(0);
      expect(new Set(refIds).size, p.title).toBe(refIds.length);
      for (const t of p.targets ?? []) expect(t.datasource?.uid, p.title).toBe(DATASOURCE_VARIABLE);
    }
  });

  it('shows health rollups, the per-repo health table, tasks by state and sync durations', async () => {
    const d = await dashboard();
    const byTitle = new Map(d.panels.map((p) => [p.title, p]));
    const exprsOf = (title: string) => (byTitle.get(title)?.targets ?? []).map((t) => t.expr).join('\n');
    expect(exprsOf('Sync health rollup')).toContain('pulp_manager_pulp_server_repo_sync_health_rollup{');
    expect(byTitle.get('Repo sync health')?.type).toBe('table');
    expect(exprsOf('Repo sync health')).toContain('pulp_manager_pulp_server_repo_sync_health{');
    const taskStates = exprsOf('Tasks by state');
    for (const state of [
      'queued',
      'running',
      'completed',
      'failed',
      'canceled',
      'failed_to_start',
      'skipped',
    ])
      expect(taskStates).toContain(`pulp_manager_pulp_server_tasks_in_${state}_state`);
    expect(exprsOf('Repo sync duration')).toContain('histogram_quantile(0.95');
    expect(exprsOf('Repo syncs finished per hour')).toContain(
      'pulp_manager_repo_sync_duration_seconds_count',
    );
  });

  it('is provisioned from the folder docker-compose.yml mounts, with the Prometheus data source', async () => {
    const provider = parse(await readFile(file('provisioning/dashboards/pulp-manager.yml'), 'utf8')) as {
      providers: { options: { path: string } }[];
    };
    expect(provider.providers[0]?.options.path).toBe('/var/lib/grafana/dashboards');
    const ds = parse(await readFile(file('provisioning/datasources/prometheus.yml'), 'utf8')) as {
      datasources: { type: string; url: string }[];
    };
    expect(ds.datasources[0]).toMatchObject({ type: 'prometheus', url: 'http://prometheus:9090' });
    const compose = await readFile(
      fileURLToPath(new URL('../../docker-compose.yml', import.meta.url)),
      'utf8',
    );
    expect(compose).toContain('./deploy/grafana/dashboards:/var/lib/grafana/dashboards:ro');
    expect(compose).toContain('./deploy/grafana/provisioning:/etc/grafana/provisioning:ro');
  });
});
