/**
 * Screenshot of the Temporal Web UI's workflow list with Pulp Manager's search attributes as
 * columns (PulpServer, RepoGroup, RepoName, FailedRepoCount, PulpManagerTaskId), as an operator
 * sets them up with the UI's column settings. Headless Chromium (Debian's) is driven over the
 * DevTools protocol: the columns are the UI's own per-namespace setting in localStorage.
 *
 *   node --experimental-websocket --import tsx scripts/screenshotWorkflowList.ts <ui-url> <namespace> <out.png>
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const [uiUrl = 'http://127.0.0.1:18233', namespace = 'default', out = 'docs/temporal-ui-workflows.png'] =
  process.argv.slice(2);

const COLUMNS = [
  { label: 'Status', pinned: true },
  { label: 'Workflow ID', pinned: true },
  { label: 'PulpServer', pinned: false },
  { label: 'RepoGroup', pinned: false },
  { label: 'RepoName', pinned: false },
  { label: 'FailedRepoCount', pinned: false },
  { label: 'PulpManagerTaskId', pinned: false },
  { label: 'End', pinned: false },
];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** A minimal DevTools protocol session on one page target. */
async function devtoolsSession(wsUrl: string) {
  const ws = new WebSocket(wsUrl);
  await new Promise((resolve, reject) => {
    ws.addEventListener('open', resolve, { once: true });
    ws.addEventListener('error', reject, { once: true });
  });
  let nextId = 1;
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  ws.addEventListener('message', (ev) => {
    const msg = JSON.parse(String(ev.data)) as { id?: number; result?: unknown; error?: { message: string } };
    if (msg.id === undefined) return;
    const p = pending.get(msg.id);
    pending.delete(msg.id);
    if (msg.error) p?.reject(new Error(msg.error.message));
    else p?.resolve(msg.result);
  });
  return {
    send<T>(method: string, params: Record<string, unknown> = {}): Promise<T> {
      const id = nextId++;
      ws.send(JSON.stringify({ id, method, params }));
      return new Promise<T>((resolve, reject) =>
        pending.set(id, { resolve: resolve as (v: unknown) => void, reject }),
      );
    },
    close: () => ws.close(),
  };
}

const port = await freePort();
const profile = await mkdtemp(join(tmpdir(), 'pm-chromium-'));
// The flags keep Chromium off the network this machine does not have.
const chromium = spawn(
  'chromium',
  [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    `--user-data-dir=${profile}`,
    `--remote-debugging-port=${port}`,
    '--window-size=2300,950',
    'about:blank',
  ],
  { stdio: 'ignore' },
);
try {
  let pageWs: string | undefined;
  for (let i = 0; i < 60 && !pageWs; i++) {
    await sleep(500);
    const targets = (await fetch(`http://127.0.0.1:${port}/json/list`)
      .then((r) => r.json())
      .catch(() => [])) as { type: string; webSocketDebuggerUrl: string }[];
    pageWs = targets.find((t) => t.type === 'page')?.webSocketDebuggerUrl;
  }
  if (!pageWs) throw new Error(`Chromium's DevTools did not answer on port ${port}`);
  const page = await devtoolsSession(pageWs);
  await page.send('Emulation.setDeviceMetricsOverride', {
    width: 2300,
    height: 950,
    deviceScaleFactor: 1,
    mobile: false,
  });
  const list = `${uiUrl}/namespaces/${namespace}/workflows`;
  await page.send('Page.navigate', { url: list });
  await sleep(3000);
  const stored = JSON.stringify({ [namespace]: COLUMNS });
  await page.send('Runtime.evaluate', {
    expression: `localStorage.setItem('namespace-workflow-table-columns', ${JSON.stringify(stored)})`,
  });
  await page.send('Page.navigate', { url: list });
  await sleep(8000);
  const shot = await page.send<{ data: string }>('Page.captureScreenshot', { format: 'png' });
  await writeFile(out, Buffer.from(shot.data, 'base64'));
  page.close();
  console.log(`wrote ${out}`);
} finally {
  chromium.kill('SIGTERM');
  await rm(profile, { recursive: true, force: true });
}
