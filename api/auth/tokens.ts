import { errors as joseErrors, jwtVerify, SignJWT } from 'jose';
import { z } from 'zod';
import type { IniConfig } from '../../config/iniConfigSchema.js';
import { ApiError } from '../errors.js';

/** What a token says about its holder. */
export interface TokenClaims {
  username: string;
  groups: string[];
  expires: Date;
}

const payloadSchema = z.object({
  username: z.string().min(1),
  groups: z.array(z.string()),
  exp: z.number(),
});

type AuthSettings = Pick<IniConfig['auth'], 'jwt_algorithm' | 'jwt_token_lifetime_mins'>;

/**
 * Signs and checks the API's JWTs: HMAC with JWT_SECRET, the algorithm from config.ini. A
 * token must carry `exp` and use exactly the configured algorithm, so `alg: none` and tokens
 * signed with another algorithm or key are refused like expired ones.
 */
export class TokenService {
  private readonly key: Uint8Array;

  constructor(
    secret: string,
    private readonly settings: AuthSettings,
  ) {
    this.key = new TextEncoder().encode(secret);
  }

  async issue(username: string, groups: readonly string[]): Promise<{ access_token: string }> {
    const token = await new SignJWT({ username, groups: [...groups] })
      .setProtectedHeader({ alg: this.settings.jwt_algorithm, typ: 'JWT' })
      .setSubject(username)
      .setIssuedAt()
      .setExpirationTime(`${this.settings.jwt_token_lifetime_mins}m`)
      .sign(this.key);
    return { access_token: token };
  }

  async verify(token: string): Promise<TokenClaims> {
    try {
      const { payload } = await jwtVerify(token, this.key, {
        algorithms: [this.settings.jwt_algorithm],
        requiredClaims: ['exp'],
      });
      const claims = payloadSchema.parse(payload);
      return { username: claims.username, groups: claims.groups, expires: new Date(claims.exp * 1000) };
    } catch (err) {
      if (err instanceof joseErrors.JOSEError || err instanceof z.ZodError) {
        const reason = err instanceof joseErrors.JWTExpired ? 'token expired' : 'invalid token';
        throw new ApiError('UNAUTHENTICATED', reason);
      }
      throw err;
    }
  }
}
