// bench/report.ts must never print a default as a measurement (issue 17): a result file with a
// missing figure stops the report, naming the file and the figure, and BENCHMARKS.md is not
// written.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MissingMeasurementError, requireEntry, requireNumber } from '../../bench/lib/measured.js';
import { type BenchResult, checkBenchResult } from '../../bench/lib/results.js';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../../', import.meta.url));

function goodResult(): BenchResult {
  return {
    id: 'exporter-scrape',
    title: 'Exporter scrape time',
    method: 'twenty scrapes',
    table: { columns: ['measure', 'median ms', 'p95 ms'], rows: [['scrape, gzip', 120, 180]] },
    targets: [{ name: 'scrape time, median', target: '< 300 ms', measured: '120 ms', met: true }],
    notes: [],
    startedAt: '2026-12-02T16:00:00.000Z',
    durationSeconds: 42,
  };
}

describe('checkBenchResult', () => {
  it('accepts a result whose every figure is there', () => {
    expect(checkBenchResult(goodResult(), 'good.json').targets[0]?.measured).toBe('120 ms');
  });

  it.each([
    [
      'an empty measured text',
      (r: BenchResult) => Object.assign(r.targets[0] as object, { measured: '' }),
      /target "scrape time, median" measured/,
    ],
    [
      'a measured NaN',
      (r: BenchResult) => Object.assign(r.targets[0] as object, { measured: 'NaN' }),
      /scrape time, median/,
    ],
    [
      'no measured at all',
      (r: BenchResult) => delete (r.targets[0] as Partial<BenchResult['targets'][0]>).measured,
      /measured/,
    ],
    ['a null cell', (r: BenchResult) => ((r.table.rows[0] as unknown[])[2] = null), /table row 1 \(p95 ms\)/],
    [
      'a NaN cell',
      (r: BenchResult) => ((r.table.rows[0] as unknown[])[1] = Number.NaN),
      /table row 1 \(median ms\)/,
    ],
    [
      'an empty cell',
      (r: BenchResult) => ((r.table.rows[0] as unknown[])[1] = ''),
      /table row 1 \(median ms\)/,
    ],
    ['a short row', (r: BenchResult) => (r.table.rows[0] as unknown[]).pop(), /table row 1/],
  ])('refuses %s, naming the file and the figure', (_what, breakIt, figure) => {
    const result = goodResult();
    breakIt(result);
    let error: unknown;
    try {
      checkBenchResult(result, 'bench/results/exporter-scrape.json');
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(MissingMeasurementError);
    expect((error as MissingMeasurementError).code).toBe('BENCH_MEASUREMENT_MISSING');
    expect((error as MissingMeasurementError).figure).toContain('bench/results/exporter-scrape.json');
    expect((error as MissingMeasurementError).figure).toMatch(figure);
  });
});

describe('requireNumber / requireEntry', () => {
  it('return what was measured, zero included', () => {
    expect(requireNumber('history size', 0)).toBe(0);
    expect(requireEntry('Pulp task seconds', new Map([['repo-a', 0]]), 'repo-a')).toBe(0);
  });

  it('refuse what was not, naming it', () => {
    expect(() => requireNumber('history size of run r1', undefined)).toThrow(
      /history size of run r1: not measured/,
    );
    expect(() => requireNumber('p99', Number.NaN)).toThrow(MissingMeasurementError);
    expect(() => requireEntry('Pulp task seconds', new Map<string, number>(), 'repo-b')).toThrow(
      /Pulp task seconds of repo-b: not measured/,
    );
  });
});

describe('bench/report.ts', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bench-report-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const report = (resultsDir: string, out: string) =>
    run('npx', ['tsx', 'bench/report.ts'], {
      cwd: root,
      env: { ...process.env, BENCH_RESULTS_DIR: resultsDir, BENCH_REPORT_OUT: out },
    });

  it('writes the report from complete result files', async () => {
    const results = join(dir, 'results');
    await run('mkdir', [results]);
    await writeFile(join(results, 'exporter-scrape.json'), JSON.stringify(goodResult()));
    const out = join(dir, 'BENCHMARKS.md');
    await report(results, out);
    expect(await readFile(out, 'utf8')).toContain(
      '| Exporter scrape time | scrape time, median | < 300 ms | 120 ms |',
    );
  }, 60_000);

  it('refuses a result file with a missing figure and writes nothing', async () => {
    const results = join(dir, 'results');
    await run('mkdir', [results]);
    const bad = goodResult();
    (bad.table.rows[0] as unknown[])[2] = null;
    await writeFile(join(results, 'exporter-scrape.json'), JSON.stringify(bad));
    const out = join(dir, 'BENCHMARKS.md');
    const failed = await report(results, out).then(
      () => undefined,
      (err: { code: number; stderr: string }) => err,
    );
    expect(failed?.code).not.toBe(0);
    expect(failed?.stderr).toContain('benchmark measurement missing');
    expect(failed?.stderr).toContain(`${join(results, 'exporter-scrape.json')}: table row 1 (p95 ms)`);
    await expect(stat(out)).rejects.toMatchObject({ code: 'ENOENT' });
  }, 60_000);
});
