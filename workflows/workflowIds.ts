/**
 * Ids of the workflows that workflows start. One id per server repo: Temporal refuses a second
 * concurrent run with the same id, which is what keeps two syncs of a repo from overlapping.
 */
export const repoSyncWorkflowId = (server: string, repo: string) => `repo-sync/${server}/${repo}`;
