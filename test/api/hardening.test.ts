import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_REQUEST_BODY_BYTES } from '../../api/app.js';
import { stack } from '../support/stack.js';
import { type ApiHarness, body, jsonRequest, startApiHarness } from './support/apiHarness.js';

// Issue 15's hardening of the HTTP layer: a body limit, security headers, and a 404 (not a 500)
// for an asset name that is an Object.prototype key.

let h: ApiHarness;

beforeAll(async () => {
  h = await startApiHarness();
}, 60_000);

afterAll(async () => {
  await h?.close();
});

const MiB = 1024 * 1024;

/** A body of `chunks` MiB streamed without Content-Length, counting the chunks actually pulled. */
function countedStream(chunks: number): { stream: ReadableStream<Uint8Array>; pulled: () => number } {
  let pulled = 0;
  const chunk = new Uint8Array(MiB).fill(0x20);
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (pulled === chunks) return controller.close();
      pulled++;
      controller.enqueue(chunk);
    },
  });
  return { stream, pulled: () => pulled };
}

describe('request body limit', () => {
  it('the limit is 1 MiB', () => {
    expect(MAX_REQUEST_BODY_BYTES).toBe(MiB);
  });

  it('a 50 MB body with its Content-Length is 413 at once on the unauthenticated login route', async () => {
    const big = `{"username":"${'a'.repeat(50 * MiB)}","password":"x"}`;
    const started = performance.now();
    const res = await h.app.request('/v1/auth/login', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'Content-Length': String(big.length) },
      body: big,
    });
    expect(res.status).toBe(413);
    expect(await body(res)).toEqual({ detail: `request body larger than ${MiB} bytes` });
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('a streamed 50 MiB body without Content-Length is 413 before it is read whole', async () => {
    for (const path of ['/v1/auth/login', '/v1/pulp_servers/1/repos/1/find_package_content']) {
      const { stream, pulled } = countedStream(50);
      const res = await h.app.request(path, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: stream,
        duplex: 'half',
      } as RequestInit);
      expect(res.status, path).toBe(413);
      expect(pulled(), path).toBeLessThan(5);
    }
  });

  it('a body under the limit still reaches the route', async () => {
    // Half a MiB of JSON whitespace around an ordinary (wrong) login.
    const res = await h.app.request('/v1/auth/login', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: `${' '.repeat(MiB / 2)}{"username":"nobody-here","password":"x"}`,
    });
    expect(res.status).toBe(401);
  });
});

describe('security headers', () => {
  it('every answer has nosniff and frame-ancestors none, the docs pages included', async () => {
    for (const path of ['/docs', '/redoc', '/health', '/v1/tasks', '/no/such/route']) {
      const res = await h.app.request(path);
      expect(res.headers.get('x-content-type-options'), path).toBe('nosniff');
      expect(res.headers.get('content-security-policy'), path).toBe("frame-ancestors 'none'");
    }
  });

  it('the login answer is not cached, success and failure alike', async () => {
    const res = await h.app.request('/v1/auth/login', jsonRequest('POST', { username: 'x', password: 'y' }));
    expect(res.status).toBe(401);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const login = await h.app.request(
      '/v1/auth/login',
      jsonRequest('POST', { username: stack.ldap.adminUser.name, password: stack.ldap.adminUser.password }),
    );
    expect(login.status).toBe(200);
    expect(login.headers.get('cache-control')).toBe('no-store');
  });
});

describe('Swagger UI assets', () => {
  it('a file name that is an Object.prototype key is a 404, not a 500', async () => {
    for (const file of ['__proto__', 'constructor', 'toString', 'hasOwnProperty']) {
      const res = await h.app.request(`/docs/assets/swagger-ui-dist/${file}`);
      expect(res.status, file).toBe(404);
      expect(await body(res)).toEqual({ detail: 'Not found' });
    }
    expect((await h.app.request('/docs/assets/swagger-ui-dist/swagger-ui.css')).status).toBe(200);
  });
});
