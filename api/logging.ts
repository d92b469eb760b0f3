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
// Any of them in a raw query string, however encoded (a key may be percent-encoded).
const mayHoldSecret = /(?:^|&)(?:token|password|access_token|[^&=]*%)/i;

/**
 * The query string as logged: credentials replaced, never the request body. Most queries hold
 * none and are logged as sent; only one that may is decoded and re-encoded to replace them
 * (a request log line is written for every request, so parsing each URL showed in profiles).
 */
export function redactedQuery(search: string): string | undefined {
  if (search === '') return undefined;
  if (!mayHoldSecret.test(search)) return search;
  const params = new URLSearchParams(search);
  for (const key of [...params.keys()]) if (secretQueryKeys.has(key)) params.set(key, '***');
  return params.toString();
}

/** The raw query string of a request URL, without its `?`. */
function searchOf(url: string): string {
  const start = url.indexOf('?');
  if (start < 0) return '';
  const end = url.indexOf('#', start);
  return end < 0 ? url.slice(start + 1) : url.slice(start + 1, end);
}

/** Logs each request once it is answered, with its request id and the caller when known. */
export function requestLog(logger: ApiLogger): MiddlewareHandler<ApiEnv> {
  return async (c, next) => {
    const started = performance.now();
    await next();
    logger.info('request', {
      request_id: c.get('requestId'),
      method: c.req.method,
      path: c.req.path,
      query: redactedQuery(searchOf(c.req.url)),
      status: c.res.status,
      duration_ms: Math.round(performance.now() - started),
      user: c.get('user')?.username,
    });
  };
}
