import createClient from 'openapi-fetch';
import { z } from 'zod';
import type { paths } from '../pulp/generated/pulp-api.js';

// Pulp's status endpoint needs no credentials (pulpcore's StatusView has no authentication
// classes), so the exporter asks it directly with a short deadline and no retries, instead of
// going through the activities' client, whose 60 s timeout, retries and Vault read are right
// for work but would let one dead server stall every scrape.

const statusSchema = z.object({
  database_connection: z.object({ connected: z.boolean() }),
  // Optional in Pulp's schema: a Pulp without Redis may leave it out.
  redis_connection: z.object({ connected: z.boolean() }).nullish(),
});

export interface PulpStatus {
  server: string;
  /** The status API answered with a status document in time. */
  reachable: boolean;
  databaseConnected: boolean;
  redisConnected: boolean;
  /** Why it is unreachable (timeout, refused, HTTP status, unexpected body). */
  error?: string;
}

export type PulpStatusProbe = (server: string, signal: AbortSignal) => Promise<PulpStatus>;

function describe(err: unknown): string {
  if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')) return 'timed out';
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (err instanceof Error ? err.message : String(err));
}

/** A probe of `<origin(server)>/pulp/api/v3/status/` with the typed client over plain fetch. */
export function pulpStatusProbe(origin: (server: string) => string): PulpStatusProbe {
  return async (server, signal) => {
    const down = (error: string): PulpStatus => ({
      server,
      reachable: false,
      databaseConnected: false,
      redisConnected: false,
      error,
    });
    try {
      const client = createClient<paths>({ baseUrl: origin(server) });
      const { data, response } = await client.GET('/pulp/api/v3/status/', { signal });
      if (!response.ok) return down(`HTTP ${response.status}`);
      const parsed = statusSchema.safeParse(data);
      if (!parsed.success) return down('unexpected status document');
      return {
        server,
        reachable: true,
        databaseConnected: parsed.data.database_connection.connected,
        redisConnected: parsed.data.redis_connection?.connected ?? false,
      };
    } catch (err) {
      return down(describe(err));
    }
  };
}

/** Probes every server at once; none takes longer than `timeoutMs`. */
export async function probePulpServers(
  servers: readonly string[],
  probe: PulpStatusProbe,
  timeoutMs: number,
): Promise<PulpStatus[]> {
  return Promise.all(
    servers.map(async (server) => {
      const signal = AbortSignal.timeout(timeoutMs);
      // The race is a backstop for a probe that ignores its signal.
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<PulpStatus>((resolve) => {
        timer = setTimeout(
          () =>
            resolve({
              server,
              reachable: false,
              databaseConnected: false,
              redisConnected: false,
              error: 'timed out',
            }),
          timeoutMs + 50,
        );
      });
      try {
        return await Promise.race([probe(server, signal), deadline]);
      } finally {
        clearTimeout(timer);
      }
    }),
  );
}
