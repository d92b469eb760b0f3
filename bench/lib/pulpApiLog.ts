import { open, stat } from 'node:fs/promises';
import { stack } from '../../test/support/stack.js';

/**
 * The requests a dev-stack Pulp API answered during a window, from its gunicorn access log
 * (dev/pulp.sh starts pulpcore-api with `--access-logfile -` into $PM_STATE/logs). Every client
 * of that Pulp counts, not only the benchmark's worker.
 */
export interface PulpApiRequests {
  /** Requests under /pulp/api/. */
  requests: number;
  /** Of which sent with HTTP basic auth (the access log names the user), logins included. */
  basicAuth: number;
  /** Of which POST /pulp/api/v3/login/ (a new session). */
  logins: number;
}

// gunicorn's default access format: `host - user [date] "METHOD path HTTP/x" status size ...`.
const ACCESS_LINE = /\s(\S+) \[[^\]]+\] "([A-Z]+) (\/pulp\/api\/\S*) HTTP/;

export async function startPulpApiLogWindow(
  server: 'primary' | 'secondary',
): Promise<{ stop(): Promise<PulpApiRequests> }> {
  const file = `${stack.stateDir}/logs/pulp-${server}-api.log`;
  const from = (await stat(file)).size;
  return {
    async stop() {
      const to = (await stat(file)).size;
      const handle = await open(file, 'r');
      try {
        const buffer = Buffer.alloc(Math.max(0, to - from));
        await handle.read(buffer, 0, buffer.length, from);
        const counts: PulpApiRequests = { requests: 0, basicAuth: 0, logins: 0 };
        for (const line of buffer.toString('utf8').split('\n')) {
          const m = ACCESS_LINE.exec(line);
          if (!m) continue;
          counts.requests++;
          if (m[1] !== '-') counts.basicAuth++;
          if (m[2] === 'POST' && m[3] === '/pulp/api/v3/login/') counts.logins++;
        }
        return counts;
      } finally {
        await handle.close();
      }
    },
  };
}
