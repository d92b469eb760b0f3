import createClient, { type Client } from 'openapi-fetch';
import { PulpApiError } from './errors.js';
import type { components, paths } from './generated/pulp-api.js';
import { type PulpFetchOptions, pulpFetch } from './pulpFetch.js';

export type PulpClient = Client<paths>;
export type PulpSchemas = components['schemas'];

export interface PulpClientOptions extends PulpFetchOptions {
  /** Origin of the server, e.g. https://pulp3.example.com or http://127.0.0.1:24880. */
  baseUrl: string;
}

/**
 * In Pulp's "bindings" schema an object path is the object's whole href (`{task_href}`),
 * which must go into the URL as is; other path parameters are encoded as usual.
 */
function pathSerializer(pathname: string, params: Record<string, unknown>): string {
  return pathname.replace(/\{([^}]+)\}/g, (_, name: string) => {
    const value = String(params[name]);
    if (name.endsWith('_href')) {
      if (!value.startsWith('/pulp/')) throw new Error(`${name} must be a Pulp href, got "${value}"`);
      return value;
    }
    return encodeURIComponent(value);
  });
}

/** The typed Pulp 3 client: requests and responses are checked against Pulp's own schema. */
export function createPulpClient(opts: PulpClientOptions): PulpClient {
  return createClient<paths>({ baseUrl: opts.baseUrl, fetch: pulpFetch(opts), pathSerializer });
}

interface FetchResult<T> {
  data?: T;
  error?: unknown;
  response: Response;
}

/** Returns the body of a successful call or throws PulpApiError with status and body. */
export async function unwrap<T>(call: Promise<FetchResult<T>>): Promise<T> {
  const { data, error, response } = await call;
  if (!response.ok) throw new PulpApiError(response.status, response.url, error);
  return data as T;
}
