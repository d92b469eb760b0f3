// A DOUBLE of the Vault HTTP API (through the Vault agent), for the paths the original Pulp
// Manager read (hashi_vault_client with vault_agent=True): the mount list and the per-mount
// lookup (KV version detection), KV v1 and KV v2 secret reads, each within a Vault Enterprise
// namespace chosen by the X-Vault-Namespace header. The real Vault is not part of the dev
// stack; this answers with Vault's own shapes ({data}, {errors}) and records every request
// exactly as it arrived, so tests can check what node-vault sends.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface KvMount {
  version: 1 | 2;
  /** Secrets by path within the mount: key → value. */
  secrets: Record<string, Record<string, string>>;
}

export interface VaultDoubleOptions {
  /** Mounts by namespace ('' is the root namespace), then by mount name (no slashes). */
  namespaces: Record<string, Record<string, KvMount>>;
}

export interface RecordedVaultRequest {
  method: string;
  /** The URL path as sent, e.g. /v1/kv2/data/rhel/cdn */
  path: string;
  headers: IncomingHttpHeaders;
}

export interface VaultApiDouble {
  addr: string;
  requests: RecordedVaultRequest[];
  /** Answer this status (with Vault's {errors}) for the path, e.g. '/v1/sys/mounts' → 403. */
  fail(path: string, status: number): void;
  /** Back to normal answers for every path. */
  heal(): void;
  close(): Promise<void>;
}

const mountEntry = (m: KvMount) => ({
  type: 'kv',
  // A KV v1 mount created without -version has no options, as Vault lists it.
  options: m.version === 2 ? { version: '2' } : null,
  description: '',
});

export async function startVaultApiDouble(opts: VaultDoubleOptions): Promise<VaultApiDouble> {
  const requests: RecordedVaultRequest[] = [];
  const failures = new Map<string, number>();

  function answer(path: string, namespace: string): { status: number; body: unknown } {
    const mounts = opts.namespaces[namespace] ?? {};
    const forced = failures.get(path);
    if (forced !== undefined) {
      const errors = forced === 403 ? ['1 error occurred:\n\t* permission denied\n\n'] : ['internal error'];
      return { status: forced, body: { errors } };
    }
    const rest = path.replace(/^\/v1\//, '');
    if (rest === 'sys/mounts') {
      const listed = Object.fromEntries(
        Object.entries(mounts).map(([name, m]) => [`${name}/`, mountEntry(m)]),
      );
      // Vault answers the mounts both at the top level and under data.
      return { status: 200, body: { ...listed, data: listed } };
    }
    const ui = /^sys\/internal\/ui\/mounts\/(.+)$/.exec(rest);
    if (ui) {
      const mount = mounts[ui[1]?.replace(/\/+$/, '') ?? ''];
      return mount
        ? { status: 200, body: { data: { ...mountEntry(mount), path: `${ui[1]}/` } } }
        : { status: 403, body: { errors: ['preflight capability check returned 403'] } };
    }
    const [mountName = '', ...segments] = rest.split('/');
    const mount = mounts[mountName];
    if (mount === undefined) return { status: 404, body: { errors: [] } };
    if (mount.version === 2) {
      if (segments[0] !== 'data') return { status: 404, body: { errors: [] } };
      const secret = mount.secrets[segments.slice(1).join('/')];
      return secret
        ? {
            status: 200,
            body: { data: { data: secret, metadata: { version: 3, destroyed: false } }, lease_duration: 0 },
          }
        : { status: 404, body: { errors: [] } };
    }
    const secret = mount.secrets[segments.join('/')];
    return secret
      ? { status: 200, body: { data: secret, lease_duration: 2764800, renewable: false } }
      : { status: 404, body: { errors: [] } };
  }

  const server: Server = createServer((req, res) => {
    const path = req.url ?? '';
    requests.push({ method: req.method ?? '', path, headers: req.headers });
    const namespace = String(req.headers['x-vault-namespace'] ?? '').replace(/\/+$/, '');
    const { status, body } = answer(path, namespace);
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    addr: `http://127.0.0.1:${port}`,
    requests,
    fail: (path, status) => failures.set(path, status),
    heal: () => failures.clear(),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
