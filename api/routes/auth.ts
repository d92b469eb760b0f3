import { createRoute } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { LoginThrottle } from '../auth/loginThrottle.js';
import { bearerToken } from '../auth/requireAdmin.js';
import type { ApiApp, RouteContext } from '../context.js';
import type { ApiEnv } from '../deps.js';
import { ApiError } from '../errors.js';
import { DecodedTokenSchema, LoginSchema, SignedTokenSchema, TokenLookupQuery } from '../schemas/auth.js';
import { bodyErrorResponses, errorResponses, jsonBody, jsonContent } from '../schemas/common.js';

const tags = ['auth'];

const loginRoute = createRoute({
  method: 'post',
  path: '/v1/auth/login',
  tags,
  summary: 'Log in with LDAP credentials; returns a JWT for the mutating routes',
  request: { body: jsonBody(LoginSchema) },
  responses: {
    200: jsonContent(SignedTokenSchema, 'A signed token'),
    ...errorResponses(401, 503),
    ...bodyErrorResponses(),
    429: {
      ...errorResponses(429)[429],
      headers: { 'Retry-After': { description: 'seconds to wait', schema: { type: 'integer', minimum: 1 } } },
    },
  },
});

const lookupRoute = createRoute({
  method: 'get',
  path: '/v1/auth/token_lookup',
  tags,
  summary: 'Decode a token (from ?token= or the Bearer header)',
  request: { query: TokenLookupQuery },
  responses: {
    200: jsonContent(DecodedTokenSchema, 'What the token says'),
    ...errorResponses(401, 422, 503),
  },
});

/**
 * The peer address of the connection (@hono/node-server puts the request in `env.incoming`).
 * X-Forwarded-For is not read: any client could set it to dodge its count.
 */
function clientAddress(c: Context<ApiEnv>): string {
  const env: unknown = c.env;
  if (typeof env === 'object' && env !== null && 'incoming' in env) {
    const incoming = env.incoming as { socket?: { remoteAddress?: string } } | undefined;
    if (incoming?.socket?.remoteAddress) return incoming.socket.remoteAddress;
  }
  return 'unknown';
}

export function registerAuthRoutes(app: ApiApp, ctx: RouteContext): void {
  const throttle = new LoginThrottle(ctx.deps.config.ini.auth);
  const tokenService = () => {
    if (ctx.tokens === undefined) throw new ApiError('AUTH_NOT_CONFIGURED', 'JWT_SECRET is not set');
    return ctx.tokens;
  };

  app.openapi(loginRoute, async (c) => {
    const { username, password } = c.req.valid('json');
    const tokens = tokenService();
    const address = clientAddress(c);
    const retryAfter = throttle.retryAfterSecs(username, address);
    if (retryAfter > 0) {
      ctx.logger.warn('login throttled', { request_id: c.get('requestId'), user: username, address });
      c.header('Retry-After', String(retryAfter));
      return c.json({ detail: `too many failed logins; try again in ${retryAfter} s` }, 429);
    }
    const user = await ctx.deps.ldap.authenticate(username, password).catch((err: unknown) => {
      if (err instanceof ApiError && err.code === 'UNAUTHENTICATED') {
        throttle.failed(username, address);
        ctx.logger.warn('login refused', { request_id: c.get('requestId'), user: username, address });
      }
      throw err;
    });
    throttle.succeeded(username);
    const { access_token } = await tokens.issue(user.username, user.groups);
    ctx.logger.info('login', { request_id: c.get('requestId'), user: user.username, groups: user.groups });
    const lifetime = ctx.deps.config.ini.auth.jwt_token_lifetime_mins * 60;
    return c.json({ access_token, token_type: 'bearer' as const, expires_in: lifetime }, 200);
  });

  app.openapi(lookupRoute, async (c) => {
    const token = c.req.valid('query').token ?? bearerToken(c);
    if (!token) throw new ApiError('UNAUTHENTICATED', 'no token given (?token= or Authorization: Bearer)');
    const claims = await tokenService().verify(token);
    return c.json(
      { username: claims.username, groups: claims.groups, expires: claims.expires.toISOString() },
      200,
    );
  });
}
