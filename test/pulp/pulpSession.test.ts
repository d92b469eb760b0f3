import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPulpClient, type PulpClient, unwrap } from '../../pulp/client.js';
import { PULP_LOGIN_PATH, PulpSession } from '../../pulp/pulpSession.js';
import { waitForPulpTask } from '../../pulp/tasks.js';
import { stack } from '../support/stack.js';

// The real primary of the local stack (make stack-up), except where a test double stands in
// for a Pulp without a login API.

interface SentCall {
  method: string;
  path: string;
  auth: 'basic' | 'session' | 'none';
  csrf: boolean;
  status: number;
}

/** fetch that records what each call carried and what it got, to count logins and renewals. */
function recordingFetch() {
  const calls: SentCall[] = [];
  const fetchImpl: typeof fetch = async (input, init) => {
    const req = new Request(input, init);
    const res = await fetch(req);
    const cookie = req.headers.get('cookie') ?? '';
    calls.push({
      method: req.method,
      path: new URL(req.url).pathname,
      auth: req.headers.has('authorization') ? 'basic' : cookie.includes('sessionid=') ? 'session' : 'none',
      csrf: req.headers.has('x-csrftoken'),
      status: res.status,
    });
    return res;
  };
  const logins = () => calls.filter((c) => c.method === 'POST' && c.path === PULP_LOGIN_PATH).length;
  const apiCalls = () => calls.filter((c) => c.path !== PULP_LOGIN_PATH);
  return { calls, fetchImpl, logins, apiCalls };
}

const primary = stack.pulp.primary;
const credentials = { username: stack.pulp.username, password: async () => stack.pulp.password };

function primaryClient(fetchImpl: typeof fetch, session?: PulpSession): PulpClient {
  return createPulpClient({ baseUrl: primary.url, ...credentials, fetchImpl, session });
}

const listRepositories = (client: PulpClient) =>
  unwrap(client.GET('/pulp/api/v3/repositories/', { params: { query: { limit: 1 } } }));

describe('Pulp session on the real primary', () => {
  it('logs in once and serves every call, concurrent ones included, with the session', async () => {
    const rec = recordingFetch();
    const client = primaryClient(rec.fetchImpl);
    await Promise.all(Array.from({ length: 12 }, () => listRepositories(client)));
    for (let i = 0; i < 5; i++) await listRepositories(client);
    expect(rec.logins()).toBe(1);
    expect(rec.apiCalls()).toHaveLength(17);
    expect(rec.apiCalls().every((c) => c.auth === 'session' && c.status === 200)).toBe(true);
  });

  it('sends the CSRF token on unsafe methods: creates and deletes a file repository', async () => {
    const rec = recordingFetch();
    const client = primaryClient(rec.fetchImpl);
    const name = `pm-session-test-${process.pid}-${Date.now()}`;
    const repo = await unwrap(client.POST('/pulp/api/v3/repositories/file/file/', { body: { name } }));
    expect(repo.name).toBe(name);
    const { task } = await unwrap(
      client.DELETE('{file_file_repository_href}', {
        params: { path: { file_file_repository_href: repo.pulp_href ?? '' } },
      }),
    );
    await waitForPulpTask(client, task);
    const found = await unwrap(
      client.GET('/pulp/api/v3/repositories/file/file/', { params: { query: { name } } }),
    );
    expect(found.count).toBe(0);
    expect(rec.logins()).toBe(1);
    const unsafe = rec.apiCalls().filter((c) => c.method === 'POST' || c.method === 'DELETE');
    expect(unsafe.map((c) => [c.method, c.auth, c.csrf, c.status])).toEqual([
      ['POST', 'session', true, 201],
      ['DELETE', 'session', true, 202],
    ]);
  });

  it('renews a session logged out server-side, once for many concurrent calls', async () => {
    const rec = recordingFetch();
    const client = primaryClient(rec.fetchImpl);
    await listRepositories(client);
    // pulpcore's logout: DELETE on the login endpoint ends the Django session on the server.
    const logout = await client.DELETE('/pulp/api/v3/login/');
    expect(logout.response.status).toBe(204);
    await Promise.all(Array.from({ length: 8 }, () => listRepositories(client)));
    expect(rec.logins()).toBe(2);
    const afterLogout = rec.apiCalls().slice(2);
    expect(afterLogout.filter((c) => c.status === 401).length).toBeGreaterThan(0);
    expect(afterLogout.filter((c) => c.status === 200)).toHaveLength(8);
  });

  it('renews a session before its cookie expires, without waiting for a 401', async () => {
    const rec = recordingFetch();
    let clock = Date.now();
    const session = new PulpSession({
      origin: primary.url,
      ...credentials,
      fetchImpl: rec.fetchImpl,
      now: () => clock,
    });
    const client = primaryClient(rec.fetchImpl, session);
    await listRepositories(client);
    clock += 13 * 24 * 3600_000;
    await listRepositories(client);
    expect(rec.logins()).toBe(1);
    // Django's default session age is two weeks; the session is renewed a minute before it ends.
    clock += 24 * 3600_000;
    await listRepositories(client);
    expect(rec.logins()).toBe(2);
    expect(rec.apiCalls().map((c) => c.status)).toEqual([200, 200, 200]);
  });

  it('re-reads a rotated password once when the login refuses the one it has', async () => {
    const rec = recordingFetch();
    const reads: boolean[] = [];
    const client = createPulpClient({
      baseUrl: primary.url,
      username: stack.pulp.username,
      password: async (refresh) => {
        reads.push(refresh);
        return refresh ? stack.pulp.password : 'the-password-before-rotation';
      },
      fetchImpl: rec.fetchImpl,
    });
    await listRepositories(client);
    await listRepositories(client);
    expect(reads).toEqual([false, true]);
    expect(rec.calls.map((c) => [c.path === PULP_LOGIN_PATH ? 'login' : 'api', c.status])).toEqual([
      ['login', 401],
      ['login', 201],
      ['api', 200],
      ['api', 200],
    ]);
  });

  it('answers 401 to the caller when the re-read password is refused as well', async () => {
    const rec = recordingFetch();
    const client = createPulpClient({
      baseUrl: primary.url,
      username: stack.pulp.username,
      password: async () => 'not-the-password',
      fetchImpl: rec.fetchImpl,
    });
    const { response } = await client.GET('/pulp/api/v3/repositories/');
    expect(response.status).toBe(401);
    expect(rec.calls.map((c) => [c.path === PULP_LOGIN_PATH ? 'login' : 'api', c.auth, c.status])).toEqual([
      ['login', 'basic', 401],
      ['login', 'basic', 401],
      ['api', 'basic', 401],
    ]);
  });
});

/**
 * Test double of a Pulp API without a usable login endpoint (or with one that misbehaves):
 * `login` decides what each login request gets; other calls need basic auth or the session
 * cookie it hands out, and a POST with the session is refused by "Django's CSRF check" when
 * `csrfFails` is set.
 */
type DoubleHeaders = Record<string, string | string[]>;

async function startPulpDouble(login: (n: number) => { status: number; headers?: DoubleHeaders }) {
  const state = { csrfFails: false, loginRequests: 0 };
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const send = (status: number, body: unknown, headers: DoubleHeaders = {}) => {
      res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
      res.end(JSON.stringify(body));
    };
    req.resume();
    req.on('end', () => {
      const path = new URL(req.url ?? '/', 'http://double').pathname;
      if (path === PULP_LOGIN_PATH && req.method === 'POST') {
        const answer = login(++state.loginRequests);
        send(answer.status, { detail: `login answer ${answer.status}` }, answer.headers);
        return;
      }
      const basic = req.headers.authorization?.startsWith('Basic ') ?? false;
      const session = req.headers.cookie?.includes('sessionid=double-session') ?? false;
      if (!basic && !session) return send(401, { detail: 'Authentication credentials were not provided.' });
      if (session && req.method === 'POST' && state.csrfFails) {
        return send(403, { detail: 'CSRF Failed: Referer checking failed - no Referer.' });
      }
      if (req.method === 'POST') return send(201, { pulp_href: '/pulp/api/v3/repositories/file/file/1/' });
      send(200, { count: 0, next: null, previous: null, results: [] });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    state,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const sessionCookies: DoubleHeaders = {
  'Set-Cookie': ['sessionid=double-session; Max-Age=1209600; Path=/', 'csrftoken=double-csrf; Path=/'],
};

describe('Pulp session against test doubles', () => {
  const doubles: { close: () => Promise<void> }[] = [];
  afterAll(async () => {
    await Promise.all(doubles.map((d) => d.close()));
  });

  async function doubleClient(login: Parameters<typeof startPulpDouble>[0]) {
    const double = await startPulpDouble(login);
    doubles.push(double);
    const rec = recordingFetch();
    const session = new PulpSession({ origin: double.url, ...credentials, fetchImpl: rec.fetchImpl });
    const client = createPulpClient({
      baseUrl: double.url,
      ...credentials,
      fetchImpl: rec.fetchImpl,
      session,
      baseDelayMs: 1,
    });
    return { double, rec, session, client };
  }

  it.each([404, 405])('falls back to basic auth, remembered, where the login answers %i', async (status) => {
    const { rec, session, client } = await doubleClient(() => ({ status }));
    await Promise.all(Array.from({ length: 5 }, () => listRepositories(client)));
    await unwrap(client.POST('/pulp/api/v3/repositories/file/file/', { body: { name: 'x' } }));
    await listRepositories(client);
    expect(session.basicOnly).toBe('no login API');
    expect(rec.logins()).toBe(1);
    expect(rec.apiCalls().map((c) => [c.auth, c.status])).toEqual([
      ...Array.from({ length: 5 }, () => ['basic', 200]),
      ['basic', 201],
      ['basic', 200],
    ]);
  });

  it('retries a login that answers 503, then uses the session', async () => {
    const { rec, client } = await doubleClient((n) =>
      n === 1 ? { status: 503, headers: { 'Retry-After': '0' } } : { status: 201, headers: sessionCookies },
    );
    await unwrap(client.POST('/pulp/api/v3/repositories/file/file/', { body: { name: 'x' } }));
    expect(rec.logins()).toBe(2);
    expect(rec.apiCalls().map((c) => [c.method, c.auth, c.csrf, c.status])).toEqual([
      ['POST', 'session', true, 201],
    ]);
  });

  it('sends unsafe methods with basic auth once CSRF checking refuses a fresh session', async () => {
    const { double, rec, session, client } = await doubleClient(() => ({
      status: 201,
      headers: sessionCookies,
    }));
    double.state.csrfFails = true;
    await unwrap(client.POST('/pulp/api/v3/repositories/file/file/', { body: { name: 'x' } }));
    await unwrap(client.POST('/pulp/api/v3/repositories/file/file/', { body: { name: 'y' } }));
    await listRepositories(client);
    expect(session.unsafeMethodsWithBasic).toBe(true);
    // The first POST: refused, renewed once, refused again, then sent with basic auth.
    expect(rec.logins()).toBe(2);
    expect(rec.apiCalls().map((c) => [c.method, c.auth, c.status])).toEqual([
      ['POST', 'session', 403],
      ['POST', 'session', 403],
      ['POST', 'basic', 201],
      ['POST', 'basic', 201],
      ['GET', 'session', 200],
    ]);
  });
});

beforeAll(async () => {
  // Say what is missing instead of failing on a socket error.
  const res = await fetch(`${primary.url}/pulp/api/v3/status/`).catch((err: unknown) => {
    throw new Error(`the local stack's Pulp primary is not up (make stack-up): ${String(err)}`);
  });
  await res.body?.cancel();
});
