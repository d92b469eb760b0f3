import type { AppConfig } from '../../config/loadAppConfig.js';
import { createDatabase } from '../../db/client.js';
import { createMetricsRegistry, PER_REPO_FAMILIES } from '../../metrics/registry.js';
import { closedPort, exporterConfig } from '../metrics/support.js';

/**
 * Every series name the deployment may query: the exporter's (read from its registry, never
 * listed by hand), the Temporal SDK metrics the dashboard uses (workerTelemetry.test.ts sees
 * them on a real worker) and Prometheus' own `up`.
 */
export async function knownSeriesNames(): Promise<Set<string>> {
  // The registry is only inspected, never scraped: the database is never connected to.
  const settings = {
    host: '127.0.0.1',
    port: await closedPort(),
    user: 'none',
    password: 'none',
    database: 'none',
  };
  const config: AppConfig = exporterConfig(settings, '127.0.0.1:1');
  const db = createDatabase(settings);
  try {
    const { registry, exposition } = createMetricsRegistry({
      db,
      config,
      // Any client object enables the schedule gauges; it is never called here.
      temporal: {} as never,
    });
    const names = new Set<string>(['up']);
    // The per-repo families are written from rows, not registered (metrics/exposition.ts); the
    // refresh status families come with the ready answer (metrics/readyExposition.ts).
    for (const family of PER_REPO_FAMILIES) names.add(family.name);
    for (const metric of [
      ...registry.getMetricsAsArray(),
      ...exposition.statusRegistry.getMetricsAsArray(),
    ]) {
      const { name, type } = metric as unknown as { name: string; type: string };
      names.add(name);
      if (type === 'histogram') for (const s of ['_bucket', '_sum', '_count']) names.add(`${name}${s}`);
    }
    for (const sdk of WORKER_SDK_METRICS) names.add(sdk);
    return names;
  } finally {
    await db.$client.end();
  }
}

/** Temporal SDK metrics (with the worker telemetry's naming options) the dashboard reads. */
export const WORKER_SDK_METRICS = ['temporal_worker_task_slots_used', 'temporal_worker_task_slots_available'];

/** Metric names in a PromQL expression (ours, the SDK's, and `up`). */
export function seriesNamesIn(expr: string): string[] {
  const withoutStrings = expr.replace(/"(?:[^"\\]|\\.)*"/g, '""');
  const tokens = withoutStrings.match(/[a-zA-Z_:][a-zA-Z0-9_:]*/g) ?? [];
  return [
    ...new Set(
      tokens.filter((t) => t.startsWith('pulp_manager_') || t.startsWith('temporal_') || t === 'up'),
    ),
  ];
}
