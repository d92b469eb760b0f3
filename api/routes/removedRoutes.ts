import type { ApiApp } from '../context.js';

/**
 * The original's /v1/rq_jobs/* inspected its Redis queues. There is no RQ here (Temporal runs
 * the work), so its clients get a 410 that says where to look instead of a bare 404.
 */
export function registerRemovedRoutes(app: ApiApp): void {
  const gone = {
    detail:
      '/v1/rq_jobs was removed with RQ: work runs on Temporal. Tasks are at /v1/tasks (worker_job_id is the workflow id), schedules at /v1/schedules, workflows in the Temporal UI',
  };
  app.get('/v1/rq_jobs', (c) => c.json(gone, 410));
  app.get('/v1/rq_jobs/*', (c) => c.json(gone, 410));
}
