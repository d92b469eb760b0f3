import {
  ActivityFailure,
  ApplicationFailure,
  ChildWorkflowFailure,
  isCancellation,
} from '@temporalio/workflow';

export { isCancellation };

/** The most useful message of a failure chain: Pulp's own error text when there is one. */
export function failureMessage(err: unknown): string {
  let cur: unknown = err;
  while (cur instanceof ActivityFailure || cur instanceof ChildWorkflowFailure) {
    if (!cur.cause) break;
    cur = cur.cause;
  }
  // An ApplicationFailure from a Pulp task already carries Pulp's error text in its message.
  return cur instanceof Error ? cur.message : String(cur);
}

export function failureDetail(err: unknown): Record<string, unknown> {
  let cur: unknown = err;
  while ((cur instanceof ActivityFailure || cur instanceof ChildWorkflowFailure) && cur.cause)
    cur = cur.cause;
  if (cur instanceof ApplicationFailure)
    return { type: cur.type ?? null, details: (cur.details ?? []) as unknown[] };
  return {};
}
