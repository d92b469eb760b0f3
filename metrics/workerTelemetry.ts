import { type Logger, Runtime, type RuntimeOptions } from '@temporalio/worker';

/** Where the worker serves the Temporal SDK's own metrics (the OpenTelemetry Prometheus default). */
export const DEFAULT_WORKER_METRICS_PORT = 9464;
/** All interfaces, as before `--metrics-host` existed; Prometheus scrapes the worker from outside. */
export const DEFAULT_WORKER_METRICS_HOST = '0.0.0.0';

/**
 * Runtime options that make the SDK core serve its metrics (polls, task slots, schedule-to-start
 * latencies, sticky cache, activity and workflow outcomes) in Prometheus format at
 * http://<bindAddress>/metrics. Counters get the `_total` suffix and durations are in seconds,
 * the Prometheus conventions that promtool checks.
 */
export function workerTelemetryOptions(bindAddress: string): NonNullable<RuntimeOptions['telemetryOptions']> {
  return {
    metrics: {
      prometheus: { bindAddress, countersTotalSuffix: true, useSecondsForDurations: true },
    },
  };
}

/**
 * Installs the process-wide Temporal Runtime with the Prometheus endpoint on `host:port`.
 * Must run before any NativeConnection or Worker exists in the process (Runtime.install throws
 * otherwise).
 */
export function installWorkerTelemetry(
  port: number = DEFAULT_WORKER_METRICS_PORT,
  options: { host?: string; logger?: Logger } = {},
): Runtime {
  return Runtime.install({
    ...(options.logger ? { logger: options.logger } : {}),
    telemetryOptions: workerTelemetryOptions(`${options.host ?? DEFAULT_WORKER_METRICS_HOST}:${port}`),
  });
}
