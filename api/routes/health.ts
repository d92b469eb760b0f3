import { createRoute, z } from '@hono/zod-openapi';
import type { ApiApp, RouteContext } from '../context.js';
import { jsonContent } from '../schemas/common.js';
import { checkReadiness } from '../services/readiness.js';

const tags = ['health'];

const CheckSchema = z.object({ ok: z.boolean(), error: z.string().optional() });
const ReadinessSchema = z
  .object({
    status: z.enum(['ready', 'not ready']),
    detail: z.string().optional(),
    checks: z.object({ database: CheckSchema, temporal: CheckSchema }),
  })
  .openapi('Readiness');

const healthRoute = createRoute({
  method: 'get',
  path: '/health',
  tags,
  summary: 'Liveness: the process answers',
  responses: { 200: jsonContent(z.object({ status: z.literal('ok') }), 'Alive') },
});

const readyRoute = createRoute({
  method: 'get',
  path: '/ready',
  tags,
  summary: 'Readiness: the database and Temporal answer',
  responses: {
    200: jsonContent(ReadinessSchema, 'Ready'),
    503: jsonContent(ReadinessSchema, 'A dependency is unreachable; detail names it'),
  },
});

export function registerHealthRoutes(app: ApiApp, ctx: RouteContext): void {
  app.openapi(healthRoute, (c) => c.json({ status: 'ok' as const }, 200));
  app.openapi(readyRoute, async (c) => {
    const { ready, checks } = await checkReadiness(ctx.deps.db, ctx.deps.temporal);
    if (ready) return c.json({ status: 'ready' as const, checks }, 200);
    const down = Object.entries(checks)
      .filter(([, check]) => !check.ok)
      .map(([name, check]) => `${name} unreachable (${check.ok ? '' : check.error})`);
    return c.json({ status: 'not ready' as const, detail: down.join('; '), checks }, 503);
  });
}
