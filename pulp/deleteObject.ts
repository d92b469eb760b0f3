import type { Client } from 'openapi-fetch';
import { type PulpClient, unwrap } from './client.js';

/** DELETE on any Pulp object href: the same call for every plugin and object kind. */
interface DeleteByHrefPaths {
  '{object_href}': {
    parameters: { query?: never; header?: never; path: { object_href: string }; cookie?: never };
    get?: never;
    put?: never;
    post?: never;
    delete: {
      parameters: { query?: never; header?: never; path: { object_href: string }; cookie?: never };
      requestBody?: never;
      responses: {
        202: { headers: Record<string, unknown>; content: { 'application/json': { task: string } } };
        204: { headers: Record<string, unknown>; content?: never };
      };
    };
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
}

/**
 * Starts the deletion of a repository, remote or distribution. Returns the Pulp task href,
 * or null when there is nothing to wait for: deleted at once (204) or already gone (404, e.g.
 * a retried attempt after the first one deleted it).
 */
export async function startDeleteObject(client: PulpClient, href: string): Promise<string | null> {
  const call = (client as unknown as Client<DeleteByHrefPaths>).DELETE('{object_href}', {
    params: { path: { object_href: href } },
  });
  const { response } = await call;
  if (response.status === 404 || response.status === 204) return null;
  const data = await unwrap(call);
  return (data as { task?: string } | undefined)?.task ?? null;
}
