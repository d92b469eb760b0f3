import { createPulpClient, type PulpClient } from '../../pulp/client.js';
import { stack } from './stack.js';

export type StackPulpServer = (typeof stack.pulp)['primary'];

/** A typed client for one of the stack's Pulp servers, through its nginx front. */
export function stackPulpClient(server: StackPulpServer): PulpClient {
  return createPulpClient({
    baseUrl: server.url,
    username: stack.pulp.username,
    password: async () => stack.pulp.password,
  });
}

export async function download(url: string): Promise<Buffer> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`GET ${url} answered ${res.status}`);
  return Buffer.from(await res.arrayBuffer());
}
