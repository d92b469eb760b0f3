import type { MiddlewareHandler } from 'hono';
import type { ApiEnv } from './deps.js';

export type LogFields = Record<string, unknown>;

export interface ApiLogger {
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
}

/** One JSON object per line, the shape log shippers expect. */
export function jsonLogger(write: (line: string) => void = (line) => process.stdout.write(line)): ApiLogger {
  const log =
    (level: string) =>
    (msg: string, fields: LogFields = {}) =>
      write(`${JSON.stringify({ time: new Date().toISOString(), level, msg, ...fields })}\n`);
  return { info: log('info'), warn: log('warn'), error: log('error') };
}

const ignore = () => undefined;
export const silentLogger: ApiLogger = { info: ignore, warn: ignore, error: ignore };

// Query parameters that may carry a credential (token_lookup takes `token` like the original).
const secretQueryKeys = new Set(['token', 'password', 'access_token']);

/** The query string as logged: credentials replaced, never the request body. */
export function redactedQuery(url: URL): string | undefined {
  if (url.search === '') return undefined;
  const params = new URLSearchParams(url.search);
  for (const key of [...params.keys()]) if (secretQueryKeys.has(key)) params.set(key, '***');
  return params.toString();
}

/** Logs each request once it is answered, with its request id and the caller when known. */
export function requestLog(logger: ApiLogger): MiddlewareHandler<ApiEnv> {
  return async (c, next) => {
    const started = performance.now();
    await next();
    const url = new URL(c.req.url);
    logger.info('request', {
      request_id: c.get('requestId'),
      method: c.req.method,
      path: url.pathname,
      query: redactedQuery(url),
      status: c.res.status,
      duration_ms: Math.round(performance.now() - started),
      user: c.get('user')?.username,
    });
  };
}
