import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * FAULT PROXY — a test double in front of a Pulp API (the simulator or a real Pulp). Every call
 * is forwarded unchanged except the ones a rule names: by method, path pattern and which
 * occurrences of that call (the 1st sync POST of a repository, the 3rd task poll), so a fault
 * test injects exactly the fault it claims to survive on every run, never by chance.
 *
 * Faults:
 *  - `error`: answered with `status` at once; the upstream never sees the call.
 *  - `hang`: forwarded and carried out upstream, but the answer is held for `ms` (then sent, or
 *    the connection dropped if the client gave up first): a lost answer, as behind a slow proxy.
 *
 * Counters and the call log belong to the current test: `reset()` (in afterEach) clears rules,
 * counters and log together.
 */
export interface FaultRule {
  /** A name for failure messages and `rule(name)`. */
  name: string;
  method: string;
  /** Matched against the path (no query string). */
  path: RegExp;
  /** 1-based occurrences of matching calls that get the fault; every one when unset. */
  occurrences?: readonly number[];
  fault: { kind: 'error'; status: number } | { kind: 'hang'; ms: number };
}

export interface FaultRuleCounts {
  /** Calls that matched method and path (faulted or not). */
  matched: number;
  /** Calls that got the fault. */
  injected: number;
}

export interface ProxiedCall {
  method: string;
  path: string;
  /** The rule whose fault this call got. */
  fault: string | null;
  /** Status sent to the client; null when the client had gone before the answer. */
  status: number | null;
}

export interface FaultProxy {
  /** Origin, e.g. http://127.0.0.1:41234. */
  url: string;
  /** The server's name in pulp_config.yml (host:port). */
  serverName: string;
  /** Replaces the rules (counters of rules with a new name start at 0). */
  setRules(rules: readonly FaultRule[]): void;
  counts(name: string): FaultRuleCounts;
  /** Every call since the last reset, in arrival order. */
  calls(): ProxiedCall[];
  /** Rules, counters and the call log back to empty; held answers are released. */
  reset(): void;
  close(): Promise<void>;
}

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'host', 'content-length']);

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export async function startFaultProxy(upstream: string): Promise<FaultProxy> {
  let rules: FaultRule[] = [];
  let counts = new Map<string, FaultRuleCounts>();
  let log: ProxiedCall[] = [];
  const held = new Set<{ timer: NodeJS.Timeout; release: () => void }>();

  /**
   * Every rule naming this call counts it; the first whose occurrences include its count gives
   * its fault (so "polls 1-3 answer 503" and "poll 5 hangs" are two rules over the same calls).
   */
  function faultFor(method: string, path: string): FaultRule | null {
    let chosen: FaultRule | null = null;
    for (const rule of rules) {
      if (rule.method !== method || !rule.path.test(path)) continue;
      const c = counts.get(rule.name) ?? { matched: 0, injected: 0 };
      counts.set(rule.name, c);
      c.matched++;
      if (chosen || (rule.occurrences && !rule.occurrences.includes(c.matched))) continue;
      c.injected++;
      chosen = rule;
    }
    return chosen;
  }

  function hold(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const entry = {
        timer: setTimeout(() => {
          held.delete(entry);
          resolve();
        }, ms),
        release: () => {
          clearTimeout(entry.timer);
          held.delete(entry);
          resolve();
        },
      };
      held.add(entry);
    });
  }

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const method = (req.method ?? 'GET').toUpperCase();
    const target = new URL(req.url ?? '/', upstream);
    const call: ProxiedCall = { method, path: target.pathname, fault: null, status: null };
    log.push(call);
    // The client gave up (its timeout) before the answer: nothing more is sent.
    let clientGone = false;
    res.once('close', () => {
      if (!res.writableFinished) clientGone = true;
    });
    const body = await readBody(req);
    const rule = faultFor(method, target.pathname);
    call.fault = rule?.name ?? null;
    if (rule?.fault.kind === 'error') {
      call.status = rule.fault.status;
      res.writeHead(rule.fault.status, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ detail: `fault proxy: ${rule.name}` }));
      return;
    }
    const headers = new Headers();
    for (const [k, v] of Object.entries(req.headers)) {
      if (v === undefined || HOP_BY_HOP.has(k)) continue;
      headers.set(k, Array.isArray(v) ? v.join(', ') : v);
    }
    let answer: Response;
    try {
      answer = await fetch(target, {
        method,
        headers,
        body: method === 'GET' || method === 'HEAD' ? undefined : body,
        redirect: 'manual',
      });
    } catch (err) {
      call.status = 502;
      res.writeHead(502, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ detail: `fault proxy: upstream unreachable: ${(err as Error).message}` }));
      return;
    }
    const payload = Buffer.from(await answer.arrayBuffer());
    if (rule?.fault.kind === 'hang') await hold(rule.fault.ms);
    if (clientGone || res.destroyed) return;
    const out: Record<string, string> = {};
    answer.headers.forEach((v, k) => {
      if (!HOP_BY_HOP.has(k) && k !== 'content-encoding') out[k] = v;
    });
    call.status = answer.status;
    res.writeHead(answer.status, out);
    res.end(payload);
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent && !res.destroyed) {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ detail: `fault proxy: ${(err as Error).message}` }));
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port, address } = server.address() as AddressInfo;
  const releaseAll = () => {
    for (const h of [...held]) h.release();
  };
  return {
    url: `http://${address}:${port}`,
    serverName: `${address}:${port}`,
    setRules(next) {
      rules = [...next];
    },
    counts: (name) => ({ ...(counts.get(name) ?? { matched: 0, injected: 0 }) }),
    calls: () => log.map((c) => ({ ...c })),
    reset() {
      rules = [];
      counts = new Map();
      log = [];
      releaseAll();
    },
    async close() {
      releaseAll();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
