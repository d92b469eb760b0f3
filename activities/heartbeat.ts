import { Context } from '@temporalio/activity';

/** Heartbeats this often during any long operation, whatever the calls inside are doing. */
export const HEARTBEAT_EVERY_MS = 5_000;

export interface TickerOptions {
  /** The heartbeat details to send each time (a new attempt reads the last ones back). */
  details?: () => unknown;
  everyMs?: number;
}

/**
 * Runs `fn` with a heartbeat ticker going: paging through thousands of objects, a slow Pulp
 * call or a wait never looks like a dead worker, so the heartbeat timeout only has to notice a
 * lost one. Cancellation (any reason) rejects at once; `fn` must be safe to abandon (a read, a
 * wait, an idempotent create).
 */
export async function withHeartbeatTicker<T>(fn: () => Promise<T>, opts: TickerOptions = {}): Promise<T> {
  const ctx = Context.current();
  const beat = () => ctx.heartbeat(opts.details?.());
  beat();
  const ticker = setInterval(beat, opts.everyMs ?? HEARTBEAT_EVERY_MS);
  try {
    return await Promise.race([fn(), ctx.cancelled as Promise<never>]);
  } finally {
    clearInterval(ticker);
  }
}
