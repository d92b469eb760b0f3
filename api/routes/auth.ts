import { createRoute } from '@hono/zod-openapi';
import { bearerToken } from '../auth/requireAdmin.js';
import type { ApiApp, RouteContext } from '../context.js';
import { ApiError } from '../errors.js';
import { DecodedTokenSchema, LoginSchema, SignedTokenSchema, TokenLookupQuery } from '../schemas/auth.js';
import { errorResponses, jsonBody, jsonContent } from '../schemas/common.js';

const tags = ['auth'];

const loginRoute = createRoute({
  method: 'post',
  path: '/v1/auth/login',
  tags,
  summary: 'Log in with LDAP credentials; returns a JWT for the mutating routes',
  request: { body: jsonBody(LoginSchema) },
  responses: { 200: jsonContent(SignedTokenSchema, 'A signed token'), ...errorResponses(401, 422, 503) },
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

export function registerAuthRoutes(app: ApiApp, ctx: RouteContext): void {
  const tokenService = () => {
    if (ctx.tokens === undefined) throw new ApiError('AUTH_NOT_CONFIGURED', 'JWT_SECRET is not set');
    return ctx.tokens;
  };

  app.openapi(loginRoute, async (c) => {
    const { username, password } = c.req.valid('json');
    const tokens = tokenService();
    const user = await ctx.deps.ldap.authenticate(username, password).catch((err: unknown) => {
      if (err instanceof ApiError && err.code === 'UNAUTHENTICATED') {
        ctx.logger.warn('login refused', { request_id: c.get('requestId'), user: username });
      }
      throw err;
    });
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
