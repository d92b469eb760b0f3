import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type FaultProxy, startFaultProxy } from './faultProxy.js';

// The fault proxy against a tiny upstream that counts what reaches it: a fault hits exactly the
// occurrences a rule names, a hang is carried out upstream, counters end with reset().

let upstream: Server;
let seen: string[] = [];
let proxy: FaultProxy;

beforeAll(async () => {
  upstream = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen.push(`${req.method} ${req.url} ${Buffer.concat(chunks).toString()}`);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ path: req.url }));
    });
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  proxy = await startFaultProxy(`http://127.0.0.1:${(upstream.address() as AddressInfo).port}`);
});

afterEach(() => {
  proxy.reset();
  seen = [];
});

afterAll(async () => {
  await proxy.close();
  upstream.closeAllConnections();
  await new Promise<void>((r) => upstream.close(() => r()));
});

const get = (path: string, timeoutMs = 5000) =>
  fetch(`${proxy.url}${path}`, { signal: AbortSignal.timeout(timeoutMs) });

describe('fault proxy', () => {
  it('faults exactly the named occurrences of the named call; other calls pass through', async () => {
    proxy.setRules([
      {
        name: 'poll',
        method: 'GET',
        path: /^\/tasks\/[^/]+\/$/,
        occurrences: [2, 3],
        fault: { kind: 'error', status: 503 },
      },
    ]);
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await get(`/tasks/t${i}/`)).status);
    expect(statuses).toEqual([200, 503, 503, 200, 200]);
    expect((await get('/tasks/')).status).toBe(200);
    const post = await fetch(`${proxy.url}/tasks/t9/`, { method: 'POST', body: '{"a":1}' });
    expect(post.status).toBe(200);
    expect(proxy.counts('poll')).toEqual({ matched: 5, injected: 2 });
    // The refused calls never reached the upstream; the POST body arrived intact.
    expect(seen).toEqual([
      'GET /tasks/t0/ ',
      'GET /tasks/t3/ ',
      'GET /tasks/t4/ ',
      'GET /tasks/ ',
      'POST /tasks/t9/ {"a":1}',
    ]);
    expect(proxy.calls().map((c) => [c.path, c.fault, c.status])).toEqual([
      ['/tasks/t0/', null, 200],
      ['/tasks/t1/', 'poll', 503],
      ['/tasks/t2/', 'poll', 503],
      ['/tasks/t3/', null, 200],
      ['/tasks/t4/', null, 200],
      ['/tasks/', null, 200],
      ['/tasks/t9/', null, 200],
    ]);
  });

  it('a hung call is carried out upstream, only its answer is late; rules over the same calls count each', async () => {
    proxy.setRules([
      {
        name: 'first',
        method: 'POST',
        path: /^\/sync\/$/,
        occurrences: [1],
        fault: { kind: 'hang', ms: 1500 },
      },
      { name: 'all', method: 'POST', path: /^\/sync\/$/, fault: { kind: 'error', status: 500 } },
    ]);
    const t0 = Date.now();
    const hung = await fetch(`${proxy.url}/sync/`, {
      method: 'POST',
      signal: AbortSignal.timeout(300),
    }).catch((err: unknown) => err);
    expect(hung).toBeInstanceOf(Error);
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(seen).toEqual(['POST /sync/ ']);
    expect((await fetch(`${proxy.url}/sync/`, { method: 'POST' })).status).toBe(500);
    expect(proxy.counts('first')).toEqual({ matched: 2, injected: 1 });
    expect(proxy.counts('all')).toEqual({ matched: 2, injected: 1 });
    const slow = Date.now();
    expect((await fetch(`${proxy.url}/other/`)).status).toBe(200);
    expect(Date.now() - slow).toBeLessThan(1000);
  });

  it('reset() clears rules, counters and the call log', async () => {
    proxy.setRules([{ name: 'x', method: 'GET', path: /^\/x\/$/, fault: { kind: 'error', status: 500 } }]);
    expect((await get('/x/')).status).toBe(500);
    proxy.reset();
    expect(proxy.counts('x')).toEqual({ matched: 0, injected: 0 });
    expect(proxy.calls()).toEqual([]);
    expect((await get('/x/')).status).toBe(200);
    expect(proxy.counts('x')).toEqual({ matched: 0, injected: 0 });
  });
});
