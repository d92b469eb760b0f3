import { DefaultLogger, Runtime } from '@temporalio/worker';

// Worker state changes are logged at INFO; tests only need warnings and errors.
// Runtime.install must run before any connection or worker exists in this process.
Runtime.install({ logger: new DefaultLogger('WARN') });
