import { defineConfig } from 'vitest/config';

// Temporal's native bridge does not survive worker threads: every project runs in forks.
export default defineConfig({
  test: {
    pool: 'forks',
    reporters: ['default', './test/support/summaryReporter.ts'],
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/**/*.test.ts'],
          // e2e and resilience files are projects of their own (one file at a time, the stack);
          // test/cluster has its own config (vitest.cluster.config.ts, `make test-cluster`).
          exclude: ['test/e2e/**', 'test/resilience/**', 'test/cluster/**', 'node_modules/**'],
          pool: 'forks',
          // Some of these talk to one real service (MariaDB, Temporal) or run the CLI.
          testTimeout: 120_000,
          hookTimeout: 120_000,
          setupFiles: ['./test/support/quietTemporalRuntime.ts'],
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          pool: 'forks',
          // The real stack is shared: run e2e files one at a time, each with room to wait on Pulp tasks.
          fileParallelism: false,
          testTimeout: 300_000,
          hookTimeout: 300_000,
          globalSetup: ['./test/support/requireStack.ts'],
          setupFiles: ['./test/support/quietTemporalRuntime.ts'],
        },
      },
      {
        test: {
          name: 'resilience',
          // Fault tests (RESILIENCE.md): services they stop are private instances started by the
          // test, never the shared stack; Pulp faults come from the simulator (test/simulator).
          include: ['test/resilience/**/*.test.ts'],
          pool: 'forks',
          fileParallelism: false,
          testTimeout: 600_000,
          hookTimeout: 300_000,
          globalSetup: ['./test/support/requireStack.ts'],
          setupFiles: ['./test/support/quietTemporalRuntime.ts'],
        },
      },
    ],
  },
});
