/** Snapshots copy whole versions with the rpm and deb copy APIs; other types have none. */
export const SNAPSHOT_REPO_TYPES = ['rpm', 'deb'] as const;

/** `2024-05` → `snap-2024-05-`: snapshot repos are recognisable by their name. */
export function normalizeSnapshotPrefix(prefix: string): string {
  const withStart = prefix.startsWith('snap-') ? prefix : `snap-${prefix}`;
  return withStart.endsWith('-') ? withStart : `${withStart}-`;
}
