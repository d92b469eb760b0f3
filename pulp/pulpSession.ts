/**
 * One login per Pulp server: pulpcore's login API (`POST /pulp/api/v3/login/`, authenticated with
 * basic auth) opens a Django session, and later calls send its cookie instead of the password.
 * Pulp hashes the password on every basic-auth call (~240 ms on the dev stack's primary, against
 * ~20 ms for the same call with a session), so a worker that makes thousands of calls logs in once.
 */

import { PulpConnectionError } from './errors.js';

/** pulpcore's login endpoint; Pulp's API root is fixed at /pulp/ for this client (generated paths). */
export const PULP_LOGIN_PATH = '/pulp/api/v3/login/';

// Django's default cookie names, which Pulp keeps: its schema declares cookieAuth as `sessionid`.
const SESSION_COOKIE = 'sessionid';
const CSRF_COOKIE = 'csrftoken';

/** Renew this long before the session cookie's own expiry, so a call never races the deadline. */
const EXPIRY_MARGIN_MS = 60_000;

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE']);

export interface PulpSessionOptions {
  /** Origin of the server, e.g. http://127.0.0.1:24880; the login endpoint is under it. */
  origin: string;
  username: string;
  /**
   * Returns the password; called again with `refresh = true` once after a 401, because the
   * Vault-managed password may have rotated since it was read.
   */
  password: (refresh: boolean) => Promise<string>;
  /** Per login request, as for every other Pulp call. */
  requestTimeoutMs?: number;
  fetchImpl?: typeof fetch;
  /** The clock that session expiry is measured on (tests move it). */
  now?: () => number;
}

/** A live Django session: the cookies the login answer set, and when the session cookie expires. */
export interface SessionCookies {
  readonly cookieHeader: string;
  /** Django rejects unsafe methods of a session without it (CSRF protection). */
  readonly csrfToken: string | undefined;
  /** Epoch ms; undefined when the cookie lives "until the browser closes". */
  readonly expiresAt: number | undefined;
}

/** How one request was authenticated, so a rejection renews exactly what was used. */
export type PulpAuthUsed =
  | { readonly kind: 'session'; readonly session: SessionCookies }
  | { readonly kind: 'basic' }
  /** The login answered 401 to the current password: the caller re-reads it (once). */
  | { readonly kind: 'refused' };

/**
 * The login endpoint answered 5xx/429/408: the request itself was not sent, so any method may
 * be retried; pulpFetch applies its usual backoff (and Retry-After) to it.
 */
export class PulpLoginUnavailableError extends Error {
  readonly code = 'PULP_LOGIN_UNAVAILABLE';
  constructor(
    readonly status: number,
    readonly url: string,
    readonly body: string,
    readonly retryAfter: string | null,
  ) {
    super(`Pulp login (${url}) answered ${status}`);
    this.name = 'PulpLoginUnavailableError';
  }
}

/** Why a server is spoken to with basic auth only; undefined while the login API is in use. */
export type BasicOnlyReason = 'no login API' | 'login refused for this user' | 'login gave no session cookie';

/** What a login came to: a session, a refused password, or basic auth from now on. */
type LoginOutcome = SessionCookies | 'refused' | 'basic only';

/**
 * The authentication state of one server and one set of credentials, shared by every request of
 * a process to that server (PulpServerClients keeps one client, hence one session, per server).
 * At most one login is in flight: concurrent requests wait for it instead of each logging in.
 */
export class PulpSession {
  readonly origin: string;
  private readonly loginUrl: string;
  private readonly doFetch: typeof fetch;
  private readonly now: () => number;
  private password: string | undefined;
  private current: SessionCookies | undefined;
  private loginInFlight: Promise<LoginOutcome> | undefined;
  private basicOnlyReason: BasicOnlyReason | undefined;
  /** Django's CSRF check rejected the session's unsafe calls even after a fresh login. */
  private unsafeWithBasic = false;

  constructor(private readonly opts: PulpSessionOptions) {
    this.origin = new URL(opts.origin).origin;
    this.loginUrl = new URL(PULP_LOGIN_PATH, this.origin).href;
    this.doFetch = opts.fetchImpl ?? fetch;
    this.now = opts.now ?? Date.now;
  }

  /** Why the server gets basic auth only (remembered for the life of the process), if it does. */
  get basicOnly(): BasicOnlyReason | undefined {
    return this.basicOnlyReason;
  }

  /** Whether unsafe methods went back to basic auth after Django's CSRF check refused them. */
  get unsafeMethodsWithBasic(): boolean {
    return this.unsafeWithBasic;
  }

  /**
   * Puts the credentials on `req`: the session cookie (plus CSRF token and Referer on unsafe
   * methods), logging in first when there is no live session, or basic auth where the server
   * has no usable login API. `refused` leaves `req` as it was: the login refused the password,
   * which the caller re-reads (once) before it asks again or falls back to authorizeBasic.
   * Throws PulpConnectionError or PulpLoginUnavailableError when the login fails, and whatever
   * the password callback throws.
   */
  async authorize(req: Request): Promise<PulpAuthUsed> {
    const unsafe = !SAFE_METHODS.has(req.method.toUpperCase());
    if (this.basicOnlyReason !== undefined || (unsafe && this.unsafeWithBasic)) {
      return this.authorizeBasic(req);
    }
    let session = this.current;
    if (!this.live(session)) {
      const outcome = await this.login();
      if (outcome === 'refused') return { kind: 'refused' };
      if (outcome === 'basic only') return this.authorizeBasic(req);
      session = outcome;
    }
    // Without a CSRF token Django refuses every unsafe call of the session.
    if (unsafe && session.csrfToken === undefined) return this.authorizeBasic(req);
    req.headers.delete('Authorization');
    req.headers.set('Cookie', session.cookieHeader);
    if (unsafe && session.csrfToken !== undefined) {
      req.headers.set('X-CSRFToken', session.csrfToken);
      // Django checks the Referer of unsafe calls over HTTPS (same host or CSRF_TRUSTED_ORIGINS).
      // No Origin header: Django verifies one whenever it is present, even over plain HTTP,
      // against the Host it sees, which a proxy in front of Pulp may have rewritten.
      req.headers.set('Referer', `${this.origin}/`);
    }
    return { kind: 'session', session };
  }

  /** Basic auth with the current password, for servers and calls the session cannot serve. */
  async authorizeBasic(req: Request): Promise<PulpAuthUsed> {
    req.headers.delete('Cookie');
    req.headers.set('Authorization', await this.basicHeader());
    return { kind: 'basic' };
  }

  /**
   * Pulp answered 401/403 to a request sent with `used`: forget that session (unless another
   * request already replaced it) so the next authorize logs in again.
   */
  rejected(used: PulpAuthUsed): void {
    if (used.kind === 'session' && this.current === used.session) this.current = undefined;
  }

  /** Re-reads the password (it may have rotated); a session opened with the old one is dropped. */
  async refreshPassword(): Promise<void> {
    this.password = await this.opts.password(true);
    this.current = undefined;
  }

  /**
   * Django's CSRF check refused an unsafe call of a fresh session (e.g. a proxy that changes the
   * Host Pulp sees, so the Referer never matches): unsafe calls use basic auth from now on.
   */
  csrfRejected(): void {
    this.unsafeWithBasic = true;
  }

  private live(session: SessionCookies | undefined): session is SessionCookies {
    if (session === undefined) return false;
    return session.expiresAt === undefined || this.now() < session.expiresAt - EXPIRY_MARGIN_MS;
  }

  private async basicHeader(): Promise<string> {
    this.password ??= await this.opts.password(false);
    return `Basic ${Buffer.from(`${this.opts.username}:${this.password}`).toString('base64')}`;
  }

  /** One login at a time per server: a request that needs a session joins the one in flight. */
  private login(): Promise<LoginOutcome> {
    this.loginInFlight ??= this.logIn().finally(() => {
      this.loginInFlight = undefined;
    });
    return this.loginInFlight;
  }

  private async logIn(): Promise<LoginOutcome> {
    const authorization = await this.basicHeader();
    let res: Response;
    let body: string;
    try {
      res = await this.doFetch(this.loginUrl, {
        method: 'POST',
        headers: { Authorization: authorization },
        signal: AbortSignal.timeout(this.opts.requestTimeoutMs ?? 60_000),
      });
      body = await res.text();
    } catch (err) {
      throw new PulpConnectionError('POST', this.loginUrl, err);
    }
    if (res.ok) {
      const session = sessionFromCookies(res.headers.getSetCookie(), this.now());
      if (session === undefined) return this.useBasicOnly('login gave no session cookie');
      this.current = session;
      return session;
    }
    if (res.status === 401) return 'refused';
    if (res.status === 408 || res.status === 429 || res.status >= 500) {
      throw new PulpLoginUnavailableError(res.status, this.loginUrl, body, res.headers.get('retry-after'));
    }
    // The credentials are good but the login API's access policy denies this user.
    if (res.status === 403) return this.useBasicOnly('login refused for this user');
    // 404/405: a Pulp older than the login API or a proxy that does not pass it; any other
    // refusal of an empty POST also means the endpoint is not usable here.
    return this.useBasicOnly('no login API');
  }

  private useBasicOnly(reason: BasicOnlyReason): LoginOutcome {
    this.basicOnlyReason = reason;
    return 'basic only';
  }
}

/** The session Django's Set-Cookie headers open, or undefined when they carry no session cookie. */
export function sessionFromCookies(setCookies: readonly string[], now: number): SessionCookies | undefined {
  const values = new Map<string, string>();
  let expiresAt: number | undefined;
  for (const line of setCookies) {
    const [pair = '', ...attributes] = line.split(';');
    const eq = pair.indexOf('=');
    if (eq <= 0) continue;
    const name = pair.slice(0, eq).trim();
    values.set(name, pair.slice(eq + 1).trim());
    if (name === SESSION_COOKIE) expiresAt = cookieExpiry(attributes, now);
  }
  const sessionId = values.get(SESSION_COOKIE);
  if (!sessionId) return undefined;
  return {
    cookieHeader: [...values].map(([name, value]) => `${name}=${value}`).join('; '),
    csrfToken: values.get(CSRF_COOKIE) || undefined,
    expiresAt,
  };
}

/** Max-Age wins over Expires (RFC 6265 §5.3); relative, so the two clocks need not agree. */
function cookieExpiry(attributes: readonly string[], now: number): number | undefined {
  let expires: number | undefined;
  for (const attribute of attributes) {
    const eq = attribute.indexOf('=');
    const key = (eq < 0 ? attribute : attribute.slice(0, eq)).trim().toLowerCase();
    const value = eq < 0 ? '' : attribute.slice(eq + 1).trim();
    if (key === 'max-age' && /^-?\d+$/.test(value)) return now + Number(value) * 1000;
    if (key === 'expires' && !Number.isNaN(Date.parse(value))) expires = Date.parse(value);
  }
  return expires;
}
