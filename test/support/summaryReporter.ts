import type { Reporter, SerializedError, TestModule } from 'vitest/node';

// CI reads a closing line of the form "N passed, N failed"; vitest's own summary differs.
export default class SummaryReporter implements Reporter {
  onTestRunEnd(
    testModules: ReadonlyArray<TestModule>,
    unhandledErrors: ReadonlyArray<SerializedError>,
  ): void {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    for (const mod of testModules) {
      for (const test of mod.children.allTests()) {
        const state = test.result().state;
        if (state === 'passed') passed++;
        else if (state === 'failed') failed++;
        else skipped++;
      }
      // A file that failed to load has no tests to count but must not read as green.
      if (mod.state() === 'failed' && [...mod.children.allTests()].length === 0) failed++;
    }
    // Errors outside any test (a global setup that threw, a crashed worker) fail the run too.
    failed += unhandledErrors.length;
    process.stdout.write(`\nvitest: ${passed} passed, ${failed} failed, ${skipped} skipped\n`);
  }
}
