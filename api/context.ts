import type { OpenAPIHono } from '@hono/zod-openapi';
import type { MiddlewareHandler } from 'hono';
import type { ListPaging } from '../db/listQuery.js';
import type { TokenService } from './auth/tokens.js';
import type { ApiDeps, ApiEnv } from './deps.js';
import type { ApiLogger } from './logging.js';
import type { WorkflowStarter } from './services/startWorkflowTask.js';

export type ApiApp = OpenAPIHono<ApiEnv>;

/** What route modules get from createApp. */
export interface RouteContext {
  deps: ApiDeps;
  logger: ApiLogger;
  paging: ListPaging;
  /** Middleware of every mutating route. */
  requireAdmin: MiddlewareHandler<ApiEnv>;
  /** An admin token whatever require_jwt_auth says: cancel, as in the original. */
  requireAdminAlways: MiddlewareHandler<ApiEnv>;
  /** Undefined when JWT_SECRET is not set (login then answers 503). */
  tokens: TokenService | undefined;
  starter: WorkflowStarter;
}

/** OpenAPI security requirement of the mutating routes. */
export const bearerSecurity = [{ bearerAuth: [] }];
