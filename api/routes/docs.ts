import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { swaggerUI } from '@hono/swagger-ui';
import type { ApiApp } from '../context.js';

// Swagger UI's page comes from @hono/swagger-ui and its script and stylesheet from the
// swagger-ui-dist package, served by this API: the machines running it are offline, no CDN.
const ASSETS_PATH = '/docs/assets';
const assetTypes: Record<string, string> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
};

const swaggerDistDir = () => dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));

export const API_VERSION = '1.0.0';

export function registerDocRoutes(app: ApiApp): void {
  app.openAPIRegistry.registerComponent('securitySchemes', 'bearerAuth', {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'JWT',
    description: 'POST /v1/auth/login returns the token',
  });
  app.doc('/openapi.json', {
    openapi: '3.0.3',
    info: {
      title: 'Pulp Manager',
      version: API_VERSION,
      description:
        'Coordinates a fleet of Pulp 3 servers: repo group syncs, snapshots, removal, sync health.',
    },
  });
  app.get(
    '/docs',
    swaggerUI({ url: '/openapi.json', baseUrl: ASSETS_PATH, title: 'Pulp Manager - Swagger UI' }),
  );

  const cache = new Map<string, Buffer>();
  app.get(`${ASSETS_PATH}/swagger-ui-dist/:file`, async (c) => {
    const file = c.req.param('file');
    const type = assetTypes[file];
    if (type === undefined) return c.json({ detail: 'Not found' }, 404);
    let body = cache.get(file);
    if (body === undefined) {
      body = await readFile(join(swaggerDistDir(), file));
      cache.set(file, body);
    }
    return c.body(new Uint8Array(body), 200, {
      'Content-Type': type,
      'Cache-Control': 'public, max-age=86400',
    });
  });
}
