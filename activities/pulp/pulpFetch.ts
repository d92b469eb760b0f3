import { PulpConnectionError } from './errors.js';

export interface PulpFetchOptions {
  username: string;
  /**
   * Returns the password; called again with `refresh = true` once after a 401, because the
   * Vault-managed password may have rotated since it was read.
   */
  password: (refresh: boolean) => Promise<string>;
  /** Per request; Pulp answers API calls quickly, long work happens in tasks. */
  requestTimeoutMs?: number;
  maxRetries?: number;
  baseDelayMs?: number;
  /** The fetch to wrap (tests inject faults through it). */
  fetchImpl?: typeof fetch;
}

const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'PATCH']);

function isRefused(err: unknown): boolean {
  const code = (err as { cause?: { code?: string } })?.cause?.code;
  return code === 'ECONNREFUSED';
}

function retryAfterMs(res: Response): number | undefined {
  const h = res.headers.get('retry-after');
  if (h === null) return undefined;
  const s = Number(h);
  return Number.isFinite(s) ? Math.min(s * 1000, 60_000) : undefined;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * fetch for the Pulp API: basic auth, per-request timeout, bounded retries with exponential
 * backoff and jitter. Idempotent methods retry on connection errors, 5xx and 429. A POST (which
 * starts tasks or creates objects) retries only when Pulp cannot have seen it: connection
 * refused, 429, 503; anything else is the caller's to reconcile (e.g. adopt a running task).
 */
export function pulpFetch(opts: PulpFetchOptions): typeof fetch {
  const { maxRetries = 4, baseDelayMs = 500, requestTimeoutMs = 60_000 } = opts;
  const doFetch = opts.fetchImpl ?? fetch;
  let password: string | undefined;

  return async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const original = new Request(input, init);
    const method = original.method.toUpperCase();
    let refreshedAfter401 = false;
    for (let attempt = 0; ; attempt++) {
      password ??= await opts.password(false);
      const req = original.clone();
      req.headers.set(
        'Authorization',
        `Basic ${Buffer.from(`${opts.username}:${password}`).toString('base64')}`,
      );
      const backoff = baseDelayMs * 2 ** attempt * (0.75 + Math.random() * 0.5);
      let res: Response;
      try {
        res = await doFetch(req, { signal: AbortSignal.timeout(requestTimeoutMs) });
      } catch (err) {
        const mayRetry = IDEMPOTENT.has(method) || isRefused(err);
        if (mayRetry && attempt < maxRetries) {
          await sleep(backoff);
          continue;
        }
        throw new PulpConnectionError(method, original.url, err);
      }
      if (res.status === 401 && !refreshedAfter401) {
        refreshedAfter401 = true;
        password = await opts.password(true);
        attempt--;
        continue;
      }
      const transient =
        res.status === 429 || res.status === 503 || (res.status >= 500 && IDEMPOTENT.has(method));
      if (transient && attempt < maxRetries) {
        await res.body?.cancel();
        await sleep(retryAfterMs(res) ?? backoff);
        continue;
      }
      return res;
    }
  };
}
