import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/**
 * The search attributes Pulp Manager sets on its runs, so that the Web UI's filters and
 * `temporal workflow list --query 'PulpServer="…" AND RepoGroup="…"'` find them. They must be
 * registered on the namespace before the first worker runs: dev/temporal.sh, the private test
 * servers and deploy/compose/temporal/create-namespace.sh register SEARCH_ATTRIBUTE_TYPES.
 */
export const SEARCH_ATTRIBUTES = {
  pulpServer: defineSearchAttributeKey('PulpServer', SearchAttributeType.KEYWORD),
  repoGroup: defineSearchAttributeKey('RepoGroup', SearchAttributeType.KEYWORD),
  repoName: defineSearchAttributeKey('RepoName', SearchAttributeType.KEYWORD),
  taskId: defineSearchAttributeKey('PulpManagerTaskId', SearchAttributeType.INT),
  /** Set when a group ends: > 0 tells a group with failed repos apart in the runs list. */
  failedRepos: defineSearchAttributeKey('FailedRepoCount', SearchAttributeType.INT),
} as const;

/** Name → type as `temporal server start-dev --search-attribute Name=Type` spells it. */
export const SEARCH_ATTRIBUTE_TYPES: Readonly<Record<string, 'Keyword' | 'Int'>> = {
  PulpServer: 'Keyword',
  RepoGroup: 'Keyword',
  RepoName: 'Keyword',
  PulpManagerTaskId: 'Int',
  FailedRepoCount: 'Int',
};
