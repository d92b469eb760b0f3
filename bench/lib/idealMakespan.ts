/**
 * The makespan that `lanes` lanes would reach with zero orchestration overhead: items start in
 * queue order, each on the lane that frees first (exactly how workflows/boundedLanes.ts pulls
 * work), and take their Pulp time. This is the critical path the concurrency allows.
 */
export function idealMakespan(durationsInQueueOrder: readonly number[], lanes: number): number {
  const free = Array.from({ length: Math.max(1, lanes) }, () => 0);
  for (const d of durationsInQueueOrder) {
    let best = 0;
    for (let i = 1; i < free.length; i++) if ((free[i] as number) < (free[best] as number)) best = i;
    free[best] = (free[best] as number) + d;
  }
  return Math.max(...free);
}
