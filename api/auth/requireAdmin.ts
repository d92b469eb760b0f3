import type { Context, MiddlewareHandler } from 'hono';
import type { ApiEnv } from '../deps.js';
import { ApiError } from '../errors.js';
import type { TokenService } from './tokens.js';

export interface AdminPolicy {
  requireJwtAuth: boolean;
  /** `[auth] admin_group`: one group or a comma separated list, any of which may mutate. */
  adminGroups: readonly string[];
  tokens: TokenService | undefined;
}

export function parseAdminGroups(adminGroup: string | undefined): string[] {
  return (adminGroup ?? '')
    .split(',')
    .map((g) => g.trim())
    .filter((g) => g !== '');
}

/** The token of `Authorization: Bearer <token>`, or undefined. */
export function bearerToken(c: Context): string | undefined {
  const header = c.req.header('authorization');
  const m = header === undefined ? null : /^Bearer\s+(\S+)\s*$/i.exec(header);
  return m?.[1];
}

/**
 * Mutating routes: a valid token (401 otherwise) whose groups include an admin group (403
 * otherwise), unless require_jwt_auth = false.
 */
export function requireAdmin(policy: AdminPolicy): MiddlewareHandler<ApiEnv> {
  return async (c, next) => {
    if (!policy.requireJwtAuth) return next();
    const token = bearerToken(c);
    if (token === undefined) {
      c.header('WWW-Authenticate', 'Bearer');
      throw new ApiError('UNAUTHENTICATED', 'a Bearer token is required: log in at POST /v1/auth/login');
    }
    if (policy.tokens === undefined) throw new ApiError('AUTH_NOT_CONFIGURED', 'JWT_SECRET is not set');
    if (policy.adminGroups.length === 0) {
      throw new ApiError('FORBIDDEN', 'no [auth] admin_group is configured: nobody may do this');
    }
    let claims: Awaited<ReturnType<TokenService['verify']>>;
    try {
      claims = await policy.tokens.verify(token);
    } catch (err) {
      c.header('WWW-Authenticate', 'Bearer error="invalid_token"');
      throw err;
    }
    c.set('user', claims);
    if (!claims.groups.some((g) => policy.adminGroups.includes(g))) {
      throw new ApiError(
        'FORBIDDEN',
        `only members of ${policy.adminGroups.join(', ')} may do this; ${claims.username} is not`,
      );
    }
    return next();
  };
}
