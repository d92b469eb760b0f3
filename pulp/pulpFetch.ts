import { PulpApiError, PulpConnectionError } from './errors.js';
import { type PulpAuthUsed, PulpLoginUnavailableError, PulpSession } from './pulpSession.js';

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
  /**
   * The login session to authenticate with, shared by every client of the same server and
   * credentials; by default each origin this fetch is called for gets one of its own, made from
   * the options above.
   */
  session?: PulpSession;
}

const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'PATCH']);

function isRefused(err: unknown): boolean {
  const code = (err as { cause?: { code?: string } })?.cause?.code;
  return code === 'ECONNREFUSED';
}

function retryAfterMs(header: string | null): number | undefined {
  if (header === null) return undefined;
  const s = Number(header);
  return Number.isFinite(s) ? Math.min(s * 1000, 60_000) : undefined;
}

/** Django's answer when its CSRF check refuses a session call ("CSRF Failed: …"). */
async function isCsrfFailure(res: Response): Promise<boolean> {
  const text = await res.clone().text();
  return text.includes('CSRF Failed');
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * fetch for the Pulp API: a login session (basic auth where the server has no login API),
 * per-request timeout, bounded retries with exponential backoff and jitter. Idempotent methods
 * retry on connection errors, 5xx and 429. A POST (which starts tasks or creates objects)
 * retries only when Pulp cannot have seen it: connection refused, 429, 503, or a login that
 * failed before the POST was sent; anything else is the caller's to reconcile (e.g. adopt a
 * running task).
 *
 * A 401/403 renews the session once per request and resends (Pulp authenticates and checks
 * permissions before a view runs, so even a POST had no effect); a further 401 re-reads the
 * password once; a CSRF refusal of a fresh session sends unsafe methods with basic auth.
 */
export function pulpFetch(opts: PulpFetchOptions): typeof fetch {
  const { maxRetries = 4, baseDelayMs = 500, requestTimeoutMs = 60_000 } = opts;
  const doFetch = opts.fetchImpl ?? fetch;
  const sessions = new Map<string, PulpSession>();
  const sessionFor = (url: string): PulpSession => {
    if (opts.session) return opts.session;
    const origin = new URL(url).origin;
    let session = sessions.get(origin);
    if (!session) {
      session = new PulpSession({ ...opts, origin, requestTimeoutMs, fetchImpl: doFetch });
      sessions.set(origin, session);
    }
    return session;
  };

  return async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const original = new Request(input, init);
    const method = original.method.toUpperCase();
    const session = sessionFor(original.url);
    let renewed = false;
    let refreshedPassword = false;
    let basicAfterCsrf = false;
    for (let attempt = 0; ; attempt++) {
      const req = original.clone();
      const backoff = baseDelayMs * 2 ** attempt * (0.75 + Math.random() * 0.5);
      let used: PulpAuthUsed;
      try {
        used = await session.authorize(req);
      } catch (err) {
        // The login failed before the request was sent: any method may be tried again. Other
        // errors (the password could not be read) are not Pulp's and go to the caller as they are.
        const loginFailed = err instanceof PulpLoginUnavailableError || err instanceof PulpConnectionError;
        if (!loginFailed) throw err;
        if (attempt < maxRetries) {
          const retryAfter = err instanceof PulpLoginUnavailableError ? err.retryAfter : null;
          await sleep(retryAfterMs(retryAfter) ?? backoff);
          continue;
        }
        throw err instanceof PulpLoginUnavailableError
          ? new PulpApiError(err.status, err.url, err.body)
          : err;
      }
      if (used.kind === 'refused') {
        if (!refreshedPassword) {
          refreshedPassword = true;
          await session.refreshPassword();
          attempt--;
          continue;
        }
        // The re-read password is refused too: send the call itself, whose 401 the caller sees.
        used = await session.authorizeBasic(req);
      }
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
      if (res.status === 401 || res.status === 403) {
        if (used.kind === 'session' && !renewed) {
          renewed = true;
          session.rejected(used);
          await res.body?.cancel();
          attempt--;
          continue;
        }
        if (res.status === 401 && !refreshedPassword) {
          refreshedPassword = true;
          await res.body?.cancel();
          await session.refreshPassword();
          attempt--;
          continue;
        }
        if (res.status === 403 && used.kind === 'session' && !basicAfterCsrf && (await isCsrfFailure(res))) {
          basicAfterCsrf = true;
          session.csrfRejected();
          await res.body?.cancel();
          attempt--;
          continue;
        }
      }
      const transient =
        res.status === 429 || res.status === 503 || (res.status >= 500 && IDEMPOTENT.has(method));
      if (transient && attempt < maxRetries) {
        await res.body?.cancel();
        await sleep(retryAfterMs(res.headers.get('retry-after')) ?? backoff);
        continue;
      }
      return res;
    }
  };
}
