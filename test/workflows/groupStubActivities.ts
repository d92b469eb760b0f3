import type { RepoCursor, RepoPage } from '../../db/serverRepoQueries.js';

/** A repo of a stub fleet: what the group's selection pages hand to the workflow. */
export interface StubRepo {
  id: number;
  name: string;
}

/** `n` repos with ids 1..n named repo-001…, as a server's selection lists them. */
export function stubFleet(n: number): StubRepo[] {
  return Array.from({ length: n }, (_, i) => ({ id: i + 1, name: `repo-${String(i + 1).padStart(3, '0')}` }));
}

/** selectReposForSyncPage over `repos`, paged as pageOfServerRepos pages (id order, after the cursor). */
export function stubSelectionPage(repos: readonly StubRepo[]) {
  return async (input: {
    cursor: RepoCursor;
    limit: number;
    withTotal?: boolean;
  }): Promise<RepoPage<StubRepo>> => {
    const after = repos.filter((r) => r.id > input.cursor.afterId);
    const got = after.slice(0, input.limit);
    const last = got[got.length - 1];
    return {
      items: got,
      next: after.length > input.limit && last ? { afterId: last.id } : null,
      ...(input.withTotal ? { total: repos.length } : {}),
    };
  };
}
