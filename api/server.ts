import type { AddressInfo } from 'node:net';
import { type ServerType, serve } from '@hono/node-server';
import type { ApiApp } from './context.js';

export interface ApiServer {
  server: ServerType;
  /** Where it listens (the port is the real one when 0 was asked for). */
  address: AddressInfo;
  close(): Promise<void>;
}

/** Serves the app over HTTP on host:port; resolves once it listens. */
export function startApiServer(app: ApiApp, options: { host: string; port: number }): Promise<ApiServer> {
  return new Promise((resolve, reject) => {
    const server = serve({ fetch: app.fetch, hostname: options.host, port: options.port }, (address) => {
      resolve({
        server,
        address,
        close: () =>
          new Promise<void>((done, fail) => {
            server.close((err) => (err ? fail(err) : done()));
          }),
      });
    });
    server.once('error', reject);
  });
}
