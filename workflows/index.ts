// The workflow bundle's entry point: every workflow the worker runs.
export { repoGroupSyncWorkflow } from './repoGroupSync.js';
export { repoSyncWorkflow } from './repoSync.js';
