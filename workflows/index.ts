// The workflow bundle's entry point: every workflow the worker runs.

export { removeRepoContentWorkflow } from './removeRepoContent.js';
export { repoGroupSyncWorkflow } from './repoGroupSync.js';
export { repoRegistrationWorkflow } from './repoRegistration.js';
export { repoRemovalWorkflow } from './repoRemoval.js';
export { repoSyncWorkflow } from './repoSync.js';
export { snapshotRepoWorkflow } from './snapshotRepo.js';
export { snapshotReposWorkflow } from './snapshotRepos.js';
export { sweepStaleTasksWorkflow } from './sweepStaleTasks.js';
