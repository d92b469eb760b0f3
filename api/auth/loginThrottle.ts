import type { IniConfig } from '../../config/iniConfigSchema.js';

export type LoginThrottleSettings = Pick<
  IniConfig['auth'],
  'login_max_failures_per_user' | 'login_max_failures_per_address' | 'login_failure_window_secs'
>;

interface Window {
  failures: number;
  /** Epoch ms when this window's failures are forgotten. */
  resetAt: number;
}

/**
 * Failed logins counted per key in fixed windows. Memory is bounded: expired windows are
 * dropped, and past `maxEntries` the oldest window goes first (Map keeps insertion order and a
 * window is re-inserted when it restarts, so the first key is the oldest).
 */
class FailureCounter {
  private readonly windows = new Map<string, Window>();

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
    private readonly maxEntries: number,
  ) {}

  /** Ms until `key` may try again, or 0 when it is under the limit. */
  blockedFor(key: string, now: number): number {
    const w = this.live(key, now);
    return w !== undefined && w.failures >= this.limit ? w.resetAt - now : 0;
  }

  fail(key: string, now: number): void {
    const w = this.live(key, now);
    if (w !== undefined) {
      w.failures += 1;
      return;
    }
    this.makeRoom(now);
    this.windows.set(key, { failures: 1, resetAt: now + this.windowMs });
  }

  forget(key: string): void {
    this.windows.delete(key);
  }

  get size(): number {
    return this.windows.size;
  }

  private live(key: string, now: number): Window | undefined {
    const w = this.windows.get(key);
    if (w !== undefined && w.resetAt <= now) {
      this.windows.delete(key);
      return undefined;
    }
    return w;
  }

  private makeRoom(now: number): void {
    if (this.windows.size < this.maxEntries) return;
    for (const [key, w] of this.windows) {
      if (w.resetAt > now) break;
      this.windows.delete(key);
    }
    while (this.windows.size >= this.maxEntries) {
      const oldest = this.windows.keys().next();
      if (oldest.done) break;
      this.windows.delete(oldest.value);
    }
  }
}

/**
 * Refuses logins of a user name or a client address with too many recent failures, before
 * LDAP is asked: password guessing is slowed, and Active Directory never sees the guesses that
 * would lock the real account out. Held in memory, per API process.
 */
export class LoginThrottle {
  private readonly byUser: FailureCounter;
  private readonly byAddress: FailureCounter;

  constructor(
    settings: LoginThrottleSettings,
    private readonly clock: () => number = Date.now,
    maxEntries = 10_000,
  ) {
    const windowMs = settings.login_failure_window_secs * 1000;
    this.byUser = new FailureCounter(settings.login_max_failures_per_user, windowMs, maxEntries);
    this.byAddress = new FailureCounter(settings.login_max_failures_per_address, windowMs, maxEntries);
  }

  /** Whole seconds until this login may be tried, or 0 when it may be tried now. */
  retryAfterSecs(user: string, address: string): number {
    const now = this.clock();
    const ms = Math.max(this.byUser.blockedFor(userKey(user), now), this.byAddress.blockedFor(address, now));
    return ms > 0 ? Math.ceil(ms / 1000) : 0;
  }

  failed(user: string, address: string): void {
    const now = this.clock();
    this.byUser.fail(userKey(user), now);
    this.byAddress.fail(address, now);
  }

  /**
   * Clears the user's count only: an address's count stays, so one known account cannot be
   * used to reset the count of an address that guesses the passwords of others.
   */
  succeeded(user: string): void {
    this.byUser.forget(userKey(user));
  }

  /** Keys held (for tests of the memory bound). */
  get entries(): number {
    return this.byUser.size + this.byAddress.size;
  }
}

// `ALICE`, ` alice` and `CORP\alice` are guesses at the same account.
function userKey(login: string): string {
  const at = login.indexOf('\\');
  return (at === -1 ? login : login.slice(at + 1)).trim().toLowerCase();
}
