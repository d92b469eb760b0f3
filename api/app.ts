import { OpenAPIHono } from '@hono/zod-openapi';
import type { MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { requestId } from 'hono/request-id';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { ConfigError } from '../config/errors.js';
import { parseAdminGroups, requireAdmin } from './auth/requireAdmin.js';
import { TokenService } from './auth/tokens.js';
import type { ApiApp, RouteContext } from './context.js';
import type { ApiDeps, ApiEnv } from './deps.js';
import { httpErrorOf } from './errors.js';
import { jsonLogger, requestLog } from './logging.js';
import { allowedMethods } from './methodNotAllowed.js';
import { registerAuthRoutes } from './routes/auth.js';
import { registerDocRoutes } from './routes/docs.js';
import { registerHealthRoutes } from './routes/health.js';
import { registerPulpServerActionRoutes } from './routes/pulpServerActions.js';
import { registerPulpServerRoutes } from './routes/pulpServers.js';
import { registerRemovedRoutes } from './routes/removedRoutes.js';
import { registerScheduleRoutes } from './routes/schedules.js';
import { registerTaskRoutes } from './routes/tasks.js';
import { validationHook } from './validation.js';

export const MIN_JWT_SECRET_BYTES = 32;

/** Refuses an [auth] section that would leave mutating routes unusable or open by accident. */
function checkAuthConfig(deps: ApiDeps, adminGroups: string[]): void {
  const { auth } = deps.config.ini;
  const file = deps.config.configPath;
  const secret = deps.config.jwtSecret;
  // A short HMAC key can be guessed offline from one token, and then any admin token forged.
  if (secret && Buffer.byteLength(secret, 'utf8') < MIN_JWT_SECRET_BYTES) {
    throw new ConfigError([
      {
        file: 'environment',
        path: 'JWT_SECRET',
        message: `must be at least ${MIN_JWT_SECRET_BYTES} bytes (got ${Buffer.byteLength(secret, 'utf8')}); generate one with: openssl rand -hex 32`,
      },
    ]);
  }
  if (!auth.require_jwt_auth) return;
  const issues = [];
  if (!deps.config.jwtSecret) {
    issues.push({
      file,
      path: 'auth.require_jwt_auth',
      message: 'JWT_SECRET must be set in the environment',
    });
  }
  if (adminGroups.length === 0) {
    issues.push({
      file,
      path: 'auth.admin_group',
      message: 'must name the group(s) allowed to start and cancel work',
    });
  }
  if (issues.length > 0) throw new ConfigError(issues);
}

/** The largest request body any route reads; the biggest real one (a task search) is a few KiB. */
export const MAX_REQUEST_BODY_BYTES = 1024 * 1024;

/**
 * Headers every answer carries: no MIME sniffing of JSON into HTML, no framing of the docs
 * pages (clickjacking), and a login answer (it holds a token) that no cache keeps.
 */
function securityHeaders(): MiddlewareHandler<ApiEnv> {
  return async (c, next) => {
    await next();
    c.res.headers.set('X-Content-Type-Options', 'nosniff');
    c.res.headers.set('Content-Security-Policy', "frame-ancestors 'none'");
    if (c.req.path === '/v1/auth/login') c.res.headers.set('Cache-Control', 'no-store');
  };
}

/** The REST API (routes, OpenAPI document, Swagger UI) over the given dependencies. */
export function createApp(deps: ApiDeps): ApiApp {
  const logger = deps.logger ?? jsonLogger();
  const { auth } = deps.config.ini;
  const adminGroups = parseAdminGroups(auth.admin_group);
  checkAuthConfig(deps, adminGroups);
  const tokens = deps.config.jwtSecret ? new TokenService(deps.config.jwtSecret, auth) : undefined;

  const app: ApiApp = new OpenAPIHono<ApiEnv>({ strict: false, defaultHook: validationHook });
  app.use(requestId());
  app.use(requestLog(logger));
  app.use(securityHeaders());
  // Before any route: an oversized body is refused from Content-Length, or as soon as the
  // streamed bytes pass the limit, never read whole (unauthenticated routes included).
  app.use(
    bodyLimit({
      maxSize: MAX_REQUEST_BODY_BYTES,
      onError: (c) => c.json({ detail: `request body larger than ${MAX_REQUEST_BODY_BYTES} bytes` }, 413),
    }),
  );
  app.onError((err, c) => {
    const { status, body, serverFault, retryAfterSeconds } = httpErrorOf(err, c.get('requestId'));
    if (retryAfterSeconds !== undefined) c.header('Retry-After', String(retryAfterSeconds));
    if (serverFault) {
      logger.error('request failed', {
        request_id: c.get('requestId'),
        method: c.req.method,
        path: c.req.path,
        status,
        error: err.message,
        // drizzle's "Failed query: <statement>" keeps the server's own error as the cause.
        cause: err.cause instanceof Error ? err.cause.message : undefined,
        stack: status === 500 ? err.stack : undefined,
      });
    }
    return c.json(body, status as ContentfulStatusCode);
  });
  app.notFound((c) => c.json({ detail: 'Not found' }, 404));
  // Before any route's own middleware (a token check would answer 401 first). Routes are all
  // registered below before the first request; the table is built on first use.
  let methodsFor: ((path: string) => string[]) | undefined;
  app.use(async (c, next) => {
    methodsFor ??= allowedMethods(app.routes);
    const allowed = methodsFor(c.req.path);
    const method = c.req.method === 'HEAD' ? 'GET' : c.req.method;
    if (allowed.length === 0 || allowed.includes(method)) return next();
    c.header('Allow', allowed.join(', '));
    return c.json({ detail: 'Method Not Allowed' }, 405);
  });

  const ctx: RouteContext = {
    deps,
    logger,
    paging: deps.config.ini.paging,
    requireAdmin: requireAdmin({ requireJwtAuth: auth.require_jwt_auth, adminGroups, tokens }),
    requireAdminAlways: requireAdmin({ requireJwtAuth: true, adminGroups, tokens }),
    tokens,
    starter: { db: deps.db, temporal: deps.temporal, taskQueue: deps.config.ini.temporal.task_queue, logger },
  };
  registerHealthRoutes(app, ctx);
  registerAuthRoutes(app, ctx);
  registerPulpServerRoutes(app, ctx);
  registerPulpServerActionRoutes(app, ctx);
  registerTaskRoutes(app, ctx);
  registerScheduleRoutes(app, ctx);
  registerDocRoutes(app);
  registerRemovedRoutes(app);
  return app;
}
