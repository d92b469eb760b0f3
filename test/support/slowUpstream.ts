import { createHash, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * Test double for a slow upstream (fault injection the real fixture server cannot do): a file
 * repository of its own (PULP_MANIFEST + files) whose manifest answers at once but whose files
 * are held for `delayMs`, so a Pulp sync from it stays running that long. The files are random
 * per instance: Pulp never already has them, so it really has to download them.
 */
export interface SlowUpstream {
  url: string;
  manifestUrl: string;
  close(): Promise<void>;
}

export async function startSlowUpstream(delayMs: number, fileCount = 2): Promise<SlowUpstream> {
  const files = new Map<string, Buffer>();
  for (let i = 0; i < fileCount; i++) files.set(`slow-${i}.bin`, randomBytes(1024));
  const manifest = [...files]
    .map(([name, data]) => `${name},${createHash('sha256').update(data).digest('hex')},${data.length}`)
    .join('\n');
  const pending = new Set<NodeJS.Timeout>();
  const server: Server = createServer((req, res) => {
    const name = (req.url ?? '/').split('/').pop() ?? '';
    if (name === 'PULP_MANIFEST') {
      res.writeHead(200, { 'content-type': 'text/csv' });
      res.end(`${manifest}\n`);
      return;
    }
    const data = files.get(name);
    if (!data) {
      res.writeHead(404);
      res.end();
      return;
    }
    const t = setTimeout(() => {
      pending.delete(t);
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': data.length });
      res.end(data);
    }, delayMs);
    pending.add(t);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    manifestUrl: `${url}/PULP_MANIFEST`,
    async close() {
      for (const t of pending) clearTimeout(t);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
