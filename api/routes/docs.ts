import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { swaggerUI } from '@hono/swagger-ui';
import type { ApiApp } from '../context.js';

// Swagger UI's page comes from @hono/swagger-ui and its script and stylesheet from the
// swagger-ui-dist package, served by this API: the machines running it are offline, no CDN.
const ASSETS_PATH = '/docs/assets';
// A Map, not an object literal: a file named `__proto__` or `constructor` must be a 404.
const assetTypes = new Map<string, string>([
  ['swagger-ui.css', 'text/css; charset=utf-8'],
  ['swagger-ui-bundle.js', 'text/javascript; charset=utf-8'],
]);

const swaggerDistDir = () => dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));

// ReDoc, as the original served it at /redoc: the redoc package's standalone bundle, from here.
const REDOC_SCRIPT = '/redoc/assets/redoc.standalone.js';
const redocBundle = () => createRequire(import.meta.url).resolve('redoc/bundles/redoc.standalone.js');
const redocPage = `<!DOCTYPE html>
<html>
<head>
<title>Pulp Manager - ReDoc</title>
<meta charset="utf-8"/>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body { margin: 0; padding: 0; }</style>
</head>
<body>
<noscript>ReDoc requires JavaScript; the OpenAPI document is at <a href="/openapi.json">/openapi.json</a>.</noscript>
<redoc spec-url="/openapi.json"></redoc>
<script src="${REDOC_SCRIPT}"></script>
</body>
</html>
`;

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

  app.get('/redoc', (c) => c.html(redocPage));
  let redocScript: Buffer | undefined;
  app.get(REDOC_SCRIPT, async (c) => {
    redocScript ??= await readFile(redocBundle());
    return c.body(new Uint8Array(redocScript), 200, {
      'Content-Type': 'text/javascript; charset=utf-8',
      'Cache-Control': 'public, max-age=86400',
    });
  });

  const cache = new Map<string, Buffer>();
  app.get(`${ASSETS_PATH}/swagger-ui-dist/:file`, async (c) => {
    const file = c.req.param('file');
    const type = assetTypes.get(file);
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
