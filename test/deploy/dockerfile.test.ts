import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';

// No Docker engine here to build the image: the Dockerfile is parsed and checked against the
// repository (what it copies exists, nothing it needs is ignored, the build compiles every
// folder tsconfig.build.json compiles).

const root = fileURLToPath(new URL('../../', import.meta.url));
const read = (p: string) => readFile(`${root}${p}`, 'utf8');

interface Instruction {
  op: string;
  args: string;
}
interface Stage {
  from: string;
  name: string | undefined;
  instructions: Instruction[];
}

function parseDockerfile(text: string): { args: Map<string, string>; stages: Stage[] } {
  const joined = text.replace(/\\\n/g, ' ');
  const args = new Map<string, string>();
  const stages: Stage[] = [];
  for (const raw of joined.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const [, op = '', rest = ''] = /^(\S+)\s*(.*)$/.exec(line) ?? [];
    const upper = op.toUpperCase();
    if (upper === 'FROM') {
      const m = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(rest);
      const image = (m?.[1] ?? '').replace(/\$\{(\w+)\}/g, (_, v: string) => args.get(v) ?? '');
      stages.push({ from: image, name: m?.[2], instructions: [] });
    } else if (stages.length === 0 && upper === 'ARG') {
      const [k, v = ''] = rest.split('=');
      args.set(k ?? '', v);
    } else {
      stages.at(-1)?.instructions.push({ op: upper, args: rest });
    }
  }
  return { args, stages };
}

let stages: Stage[];
const stage = (name: string) => stages.find((s) => s.name === name) as Stage;
const ops = (s: Stage, op: string) => s.instructions.filter((i) => i.op === op).map((i) => i.args);

beforeAll(async () => {
  stages = parseDockerfile(await read('Dockerfile')).stages;
});

describe('Dockerfile', () => {
  it('is multi-stage on node:20: build (npm ci + npm run build), prod-deps (npm ci --omit=dev), runtime', () => {
    expect(stages.map((s) => s.name)).toEqual(['build', 'prod-deps', 'runtime']);
    for (const s of stages) expect(s.from, s.name).toMatch(/^node:20(\.|-|$)/);
    expect(ops(stage('build'), 'RUN')).toEqual(
      expect.arrayContaining(['npm ci --no-audit --no-fund', 'npm run build']),
    );
    expect(ops(stage('prod-deps'), 'RUN').join(' ')).toContain('npm ci --omit=dev');
  });

  it('the runtime stage has only production node_modules and dist, runs as a non-root uid, the CLI as entrypoint', () => {
    const rt = stage('runtime');
    const copies = ops(rt, 'COPY');
    expect(copies).toEqual(
      expect.arrayContaining([
        '--from=prod-deps /app/node_modules ./node_modules',
        '--from=build /src/dist ./dist',
      ]),
    );
    expect(copies.filter((c) => !c.startsWith('--from='))).toEqual(['package.json ./']);
    const [user] = ops(rt, 'USER');
    expect(user).toMatch(/^[1-9]\d*(:\d+)?$/);
    expect(ops(rt, 'ENTRYPOINT')).toEqual(['["/usr/bin/tini", "--", "node", "dist/cli/main.js"]']);
    expect(ops(rt, 'CMD')).toEqual(['["worker"]']);
    // git for repo registration from git; tini to forward SIGTERM for graceful worker shutdown.
    expect(ops(rt, 'RUN').join(' ')).toMatch(/apt-get install .*\bgit\b.*\btini\b/);
    expect(ops(rt, 'ENV').join(' ')).toContain('PULP_MANAGER_CONFIG_PATH=/etc/pulp_manager/config.ini');
  });

  it('copies every folder the build compiles, and those exist', async () => {
    const buildConfig = JSON.parse(await read('tsconfig.build.json')) as { include: string[] };
    const copied = ops(stage('build'), 'COPY').map((c) => c.split(/\s+/)[0] as string);
    for (const folder of buildConfig.include) {
      expect(copied, `tsconfig.build.json compiles ${folder}/`).toContain(folder);
    }
    for (const src of copied) expect(existsSync(`${root}${src}`), src).toBe(true);
    // dist/cli/main.js is what the entrypoint runs: cli/main.ts compiled with rootDir ".".
    expect(existsSync(`${root}cli/main.ts`)).toBe(true);
    expect(buildConfig.include).toContain('cli');
  });

  it('.dockerignore keeps local state out but nothing the build copies', async () => {
    const ignored = (await read('.dockerignore'))
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '' && !l.startsWith('#'));
    expect(ignored).toEqual(expect.arrayContaining(['.git', 'node_modules', 'dist', '.env']));
    const copied = stages.flatMap((s) =>
      ops(s, 'COPY')
        .filter((c) => !c.startsWith('--from='))
        .flatMap((c) => c.split(/\s+/).slice(0, -1)),
    );
    for (const src of copied) expect(ignored, src).not.toContain(src);
    // Migrations are read at run time from dist/db/migrations (copied by `npm run build`).
    expect(ignored).not.toContain('db/migrations');
  });
});
