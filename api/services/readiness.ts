import type { Client } from '@temporalio/client';
import type { Database } from '../../db/client.js';
import { pingDatabase } from './serverRecords.js';

export type CheckResult = { ok: true } | { ok: false; error: string };

export interface Readiness {
  ready: boolean;
  checks: { database: CheckResult; temporal: CheckResult };
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** The innermost message: drizzle and gRPC wrap the error that says what happened. */
function rootMessage(err: unknown): string {
  let message = err instanceof Error ? err.message : String(err);
  for (let e = err, depth = 0; e instanceof Error && depth < 6; e = e.cause, depth++) {
    if (e.message) message = e.message;
  }
  return message;
}

async function check(run: () => Promise<unknown>, ms: number, what: string): Promise<CheckResult> {
  try {
    await withTimeout(run(), ms, what);
    return { ok: true };
  } catch (err) {
    return { ok: false, error: rootMessage(err) };
  }
}

/** GET /ready: both dependencies answer a trivial request in time. */
export async function checkReadiness(db: Database, temporal: Client, timeoutMs = 3000): Promise<Readiness> {
  const [database, temporalCheck] = await Promise.all([
    check(() => pingDatabase(db), timeoutMs, 'the database'),
    // The gRPC deadline ends the call (and its retries); the race is only a backstop.
    check(
      () =>
        temporal.connection.withDeadline(Date.now() + timeoutMs, () =>
          temporal.workflowService.describeNamespace({ namespace: temporal.options.namespace }),
        ),
      timeoutMs + 2000,
      'Temporal',
    ),
  ]);
  return { ready: database.ok && temporalCheck.ok, checks: { database, temporal: temporalCheck } };
}
