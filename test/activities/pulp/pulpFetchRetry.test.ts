import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PulpConnectionError } from '../../../pulp/errors.js';
import { pulpFetch } from '../../../pulp/pulpFetch.js';
import { PULP_LOGIN_PATH } from '../../../pulp/pulpSession.js';

/**
 * pulpFetch's retry rules against a local HTTP server that answers what each test scripts and
 * records every call with its arrival time: which answers are retried for which methods, how
 * many attempts, and how far apart (Retry-After in seconds honoured, else exponential backoff).
 * The login endpoint answers 404, so every call goes with basic auth and no login sits between
 * the attempts.
 */
interface Answer {
  status: number;
  headers?: Record<string, string>;
  /** Drop the connection without an answer (Pulp may have seen the request). */
  reset?: boolean;
}
interface Call {
  method: string;
  path: string;
  at: number;
}

let server: Server;
let base: string;
let calls: Call[] = [];
let script: (n: number, call: Call) => Answer = () => ({ status: 200 });

beforeAll(async () => {
  server = createServer((req: IncomingMessage, res: ServerResponse) => {
    req.resume();
    req.on('end', () => {
      const path = new URL(req.url ?? '/', 'http://double').pathname;
      if (path === PULP_LOGIN_PATH) {
        res.writeHead(404).end();
        return;
      }
      const call = { method: req.method ?? 'GET', path, at: performance.now() };
      calls.push(call);
      const answer = script(calls.length, call);
      if (answer.reset) {
        req.socket.destroy();
        return;
      }
      res.writeHead(answer.status, { 'Content-Type': 'application/json', ...answer.headers });
      res.end(JSON.stringify({ detail: `answer ${answer.status}` }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterEach(() => {
  calls = [];
  script = () => ({ status: 200 });
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const path = '/pulp/api/v3/repositories/rpm/rpm/';

function client(opts: { baseDelayMs?: number; maxRetries?: number; fetchImpl?: typeof fetch } = {}) {
  return pulpFetch({ username: 'svc', password: async () => 'pw', baseDelayMs: 1, ...opts });
}

/** `failures` answers of `status`, then 200 (201 for a POST). */
function failFirst(failures: number, status: number, headers?: Record<string, string>) {
  script = (n, call) =>
    n <= failures ? { status, headers } : { status: call.method === 'POST' ? 201 : 200 };
}

const gaps = () => calls.slice(1).map((c, i) => c.at - (calls[i]?.at ?? c.at));

describe('pulpFetch retries (local HTTP double)', () => {
  it('waits the Retry-After seconds a 429 or 503 names before each retry, not the backoff', async () => {
    script = (n) =>
      n === 1
        ? { status: 429, headers: { 'Retry-After': '1' } }
        : n === 2
          ? { status: 503, headers: { 'Retry-After': '2' } }
          : { status: 200 };
    const res = await client()(`${base}${path}`);
    expect(res.status).toBe(200);
    expect(calls).toHaveLength(3);
    const [first, second] = gaps();
    // Backoff alone (baseDelayMs 1) would resend within milliseconds.
    expect(first).toBeGreaterThanOrEqual(950);
    expect(first).toBeLessThan(1900);
    expect(second).toBeGreaterThanOrEqual(1950);
    expect(second).toBeLessThan(3500);
  });

  it('Retry-After 0 resends at once; an HTTP-date Retry-After falls back to the backoff', async () => {
    failFirst(2, 503, { 'Retry-After': '0' });
    expect((await client({ baseDelayMs: 5000 })(`${base}${path}`)).status).toBe(200);
    expect(calls).toHaveLength(3);
    for (const g of gaps()) expect(g).toBeLessThan(1000);
    calls = [];
    failFirst(1, 503, { 'Retry-After': 'Wed, 21 Oct 2015 07:28:00 GMT' });
    expect((await client({ baseDelayMs: 300 })(`${base}${path}`)).status).toBe(200);
    expect(calls).toHaveLength(2);
    // 300 ms × (0.75…1.25): neither an immediate resend nor a wait for a date long past.
    expect(gaps()[0]).toBeGreaterThanOrEqual(215);
    expect(gaps()[0]).toBeLessThan(1500);
  });

  it('backs off exponentially with jitter: base, 2×base, 4×base (each × 0.75…1.25)', async () => {
    failFirst(3, 502);
    expect((await client({ baseDelayMs: 200 })(`${base}${path}`)).status).toBe(200);
    expect(calls).toHaveLength(4);
    const [g0 = 0, g1 = 0, g2 = 0] = gaps();
    expect(g0).toBeGreaterThanOrEqual(145);
    expect(g1).toBeGreaterThanOrEqual(295);
    expect(g2).toBeGreaterThanOrEqual(595);
    // The upper bounds with room for a busy machine: still below the next power of two's minimum.
    expect(g0).toBeLessThan(300 + 150);
    expect(g2).toBeLessThan(1000 + 500);
  });

  it('stops after maxRetries resends and answers the last response', async () => {
    failFirst(100, 503, { 'Retry-After': '0' });
    const res = await client({ maxRetries: 4 })(`${base}${path}`);
    expect(res.status).toBe(503);
    expect(calls).toHaveLength(5);
    calls = [];
    const none = await client({ maxRetries: 0 })(`${base}${path}`);
    expect(none.status).toBe(503);
    expect(calls).toHaveLength(1);
  });

  it.each([
    ['GET', 500, 2],
    ['GET', 502, 2],
    ['DELETE', 504, 2],
    ['PATCH', 500, 2],
    ['PUT', 502, 2],
    ['POST', 429, 2],
    ['POST', 503, 2],
    // Pulp may have started the task: the caller reconciles (adopts a live task) instead.
    ['POST', 500, 1],
    ['POST', 502, 1],
    ['POST', 504, 1],
    ['GET', 400, 1],
    ['GET', 404, 1],
    ['POST', 400, 1],
    ['PATCH', 409, 1],
  ])('%s answered %i is sent %i time(s)', async (method, status, sends) => {
    failFirst(1, status);
    const res = await client()(`${base}${path}`, {
      method,
      ...(method === 'GET' || method === 'DELETE' ? {} : { body: '{}' }),
      headers: { 'Content-Type': 'application/json' },
    });
    expect(calls.map((c) => c.method)).toEqual(Array.from({ length: sends }, () => method));
    expect(res.status).toBe(sends === 1 ? status : method === 'POST' ? 201 : 200);
  });

  it('a dropped connection is retried for a GET but not for a POST, which fails with PulpConnectionError', async () => {
    script = (n) => (n === 1 ? { status: 0, reset: true } : { status: 200 });
    expect((await client()(`${base}${path}`)).status).toBe(200);
    expect(calls).toHaveLength(2);
    calls = [];
    script = (n) => (n === 1 ? { status: 0, reset: true } : { status: 201 });
    const err = await client()(`${base}${path}`, { method: 'POST', body: '{}' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PulpConnectionError);
    expect(calls).toHaveLength(1);
  });

  it('a refused connection is retried even for a POST (Pulp never saw it)', async () => {
    script = () => ({ status: 201 });
    let refused = 0;
    const refusingOnce: typeof fetch = async (input, init) => {
      const url = input instanceof Request ? input.url : String(input);
      if (!url.endsWith(PULP_LOGIN_PATH) && refused === 0) {
        refused++;
        throw new TypeError('fetch failed', {
          cause: Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }),
        });
      }
      return fetch(input, init);
    };
    const res = await client({ fetchImpl: refusingOnce })(`${base}${path}`, { method: 'POST', body: '{}' });
    expect(res.status).toBe(201);
    expect(refused).toBe(1);
    expect(calls.map((c) => c.method)).toEqual(['POST']);
  });
});
