import { z } from '@hono/zod-openapi';
import { isoDateTime } from './common.js';

export const LoginSchema = z
  .strictObject({
    username: z.string().min(1).max(256).openapi({ example: 'jdoe' }),
    password: z.string().min(1).max(1024).openapi({ format: 'password' }),
  })
  .openapi('UsernamePasswordLogin');

export const SignedTokenSchema = z
  .object({
    access_token: z.string(),
    token_type: z.literal('bearer'),
    expires_in: z.number().int().openapi({ description: 'seconds' }),
  })
  .openapi('JWTSignedToken');

export const DecodedTokenSchema = z
  .object({ username: z.string(), groups: z.array(z.string()), expires: isoDateTime })
  .openapi('JWTDecodedToken');

export const TokenLookupQuery = z.object({
  token: z
    .string()
    .optional()
    .openapi({
      param: { name: 'token', in: 'query' },
      description: 'the token to decode, as the original took it; or send it as a Bearer token',
    }),
});
