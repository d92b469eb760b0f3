// The request log line: every request once, credentials in the query string never written.
import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import type { ApiEnv } from '../../api/deps.js';
import { type LogFields, redactedQuery, requestLog } from '../../api/logging.js';

function appLogging() {
  const lines: LogFields[] = [];
  const record = (_msg: string, fields: LogFields = {}) => lines.push(fields);
  const app = new Hono<ApiEnv>();
  app.use(requestLog({ info: record, warn: record, error: record }));
  app.get('/v1/tasks', (c) => c.json({ ok: true }));
  return { app, lines };
}

describe('request log', () => {
  it('writes path, query as sent, status and duration once per request', async () => {
    const { app, lines } = appLogging();
    const res = await app.request('/v1/tasks?name__match=%5Eext-debian&page_size=100');
    expect(res.status).toBe(200);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      method: 'GET',
      path: '/v1/tasks',
      query: 'name__match=%5Eext-debian&page_size=100',
      status: 200,
    });
    expect(typeof lines[0]?.duration_ms).toBe('number');
  });

  it('replaces every credential-bearing parameter, however the key is spelled or encoded', async () => {
    const { app, lines } = appLogging();
    for (const query of [
      'token=s3cret&page=2',
      'page=2&access_token=s3cret',
      'password=s3cret',
      'PASSWORD=x&token=s3cret',
      'to%6Ben=s3cret',
      'page=1#token=s3cret',
    ]) {
      await app.request(`/v1/tasks?${query}`);
    }
    const logged = lines.map((l) => String(l.query));
    for (const q of logged) expect(q).not.toContain('s3cret');
    expect(logged[0]).toBe('token=***&page=2');
    expect(logged[4]).toBe('token=***');
    expect(redactedQuery('')).toBeUndefined();
    expect(redactedQuery('state=failed&order_by=desc')).toBe('state=failed&order_by=desc');
  });
});
