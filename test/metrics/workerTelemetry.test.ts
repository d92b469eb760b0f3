import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { DEFAULT_WORKER_METRICS_PORT, workerTelemetryOptions } from '../../metrics/workerTelemetry.js';
import { stack } from '../support/stack.js';
import { closedPort, promtoolCheckMetrics, samples } from './support.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const sh = promisify(execFile);

describe('worker telemetry (Temporal SDK metrics in Prometheus format)', () => {
  it('asks the SDK core for a Prometheus endpoint with Prometheus naming conventions', () => {
    expect(DEFAULT_WORKER_METRICS_PORT).toBe(9464);
    expect(workerTelemetryOptions('0.0.0.0:9464')).toEqual({
      metrics: {
        prometheus: { bindAddress: '0.0.0.0:9464', countersTotalSuffix: true, useSecondsForDurations: true },
      },
    });
  });

  it('a worker with the telemetry installed serves its SDK metrics, which promtool accepts', async () => {
    // Its own process: Runtime.install is once per process and the test runtime is installed.
    const port = await closedPort();
    const { stdout } = await sh(
      'npx',
      [
        'tsx',
        'test/metrics/fixtures/workerTelemetryProbe.ts',
        String(port),
        stack.temporal.address,
        'default',
      ],
      { cwd: root, timeout: 90_000 },
    );
    const slots = samples(stdout, 'temporal_worker_task_slots_available');
    expect(slots.size, stdout).toBeGreaterThan(0);
    expect([...slots.keys()].join('\n')).toMatch(/worker_type="ActivityWorker"/);
    expect(samples(stdout, 'temporal_request_total').size).toBeGreaterThan(0);
    // The series the dashboard and test/deploy/metricNames.ts rely on.
    expect(samples(stdout, 'temporal_worker_task_slots_used').size).toBeGreaterThan(0);
    expect(stdout).toContain('# TYPE temporal_request_latency histogram');
    const check = await promtoolCheckMetrics(stdout);
    expect(check.stdout + check.stderr).toBe('');
    expect(check.code).toBe(0);
  });

  it('binds where --metrics-host asks: 127.0.0.2 answers, 127.0.0.1 does not', async () => {
    const port = await closedPort();
    const { stdout } = await sh(
      'npx',
      [
        'tsx',
        'test/metrics/fixtures/workerTelemetryProbe.ts',
        String(port),
        stack.temporal.address,
        'default',
        '127.0.0.2',
      ],
      { cwd: root, timeout: 90_000 },
    );
    expect(samples(stdout, 'temporal_worker_task_slots_available').size, stdout).toBeGreaterThan(0);
    expect(stdout).toMatch(/# probe: 127\.0\.0\.1 refused/);
  });

  it('`pulp-manager worker` takes --metrics-host, all interfaces by default', async () => {
    const { stdout } = await sh('npx', ['tsx', 'cli/main.ts', 'worker', '--help'], {
      cwd: root,
      timeout: 60_000,
    });
    expect(stdout).toMatch(
      /--metrics-host <host>\s+address the SDK metrics listen on \(default: "0\.0\.0\.0"\)/,
    );
  });
});
