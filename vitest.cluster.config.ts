import { defineConfig } from 'vitest/config';

// The production-topology test (issue 16, `make test-cluster`): its own config so that `make test`
// never starts the Temporal cluster; .ci/run runs both.
export default defineConfig({
  test: {
    pool: 'forks',
    reporters: ['default', './test/support/summaryReporter.ts'],
    include: ['test/cluster/**/*.test.ts'],
    fileParallelism: false,
    testTimeout: 1_200_000,
    hookTimeout: 900_000,
    globalSetup: ['./test/support/requireStack.ts'],
    setupFiles: ['./test/support/quietTemporalRuntime.ts'],
  },
});
