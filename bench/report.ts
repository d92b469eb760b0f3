import { readdir, readFile, writeFile } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { BenchResult } from './lib/results.js';
import { resultsDir } from './lib/results.js';

/** Writes BENCHMARKS.md from bench/results/*.json (what the benchmarks of `make bench` wrote). */
const ORDER = ['group-sync-makespan', 'real-pulp-group', 'api-latency', 'exporter-scrape'];
const out = fileURLToPath(new URL('../BENCHMARKS.md', import.meta.url));

const files = (await readdir(resultsDir)).filter((f) => f.endsWith('.json'));
const results = await Promise.all(
  files.map(async (f) => JSON.parse(await readFile(`${resultsDir}${f}`, 'utf8')) as BenchResult),
);
results.sort((a, b) => ORDER.indexOf(a.id) - ORDER.indexOf(b.id));

const cell = (v: string | number) => String(v).replaceAll('|', '\\|');
const lines: string[] = [
  '# Benchmarks',
  '',
  'Written by `make bench` (bench/report.ts from bench/results/*.json); do not edit by hand.',
  '',
  `Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, ${Math.round(totalmem() / 2 ** 30)} GiB, ` +
    `Node ${process.version}. Temporal dev server (SQLite), MariaDB, both Pulps and the benchmark share these cores.`,
  '',
  '## Targets',
  '',
  '| benchmark | target | goal | measured | met |',
  '| --- | --- | --- | --- | --- |',
];
for (const r of results) {
  for (const t of r.targets) {
    lines.push(
      `| ${cell(r.title)} | ${cell(t.name)} | ${cell(t.target)} | ${cell(t.measured)} | ${t.met ? 'yes' : '**no**'} |`,
    );
  }
}
const gaps = results.flatMap((r) => r.targets.filter((t) => !t.met && t.gapCause).map((t) => ({ r, t })));
if (gaps.length > 0) {
  lines.push('', 'Gaps and their causes:', '');
  for (const { r, t } of gaps) lines.push(`- ${r.title}, ${t.name}: ${t.gapCause}`);
}
for (const r of results) {
  lines.push(
    '',
    `## ${r.title}`,
    '',
    `Run ${r.startedAt.replace('T', ' ').slice(0, 16)} UTC, ${Math.round(r.durationSeconds)} s. ${r.method}`,
    '',
    `| ${r.table.columns.map(cell).join(' | ')} |`,
    `| ${r.table.columns.map(() => '---').join(' | ')} |`,
    ...r.table.rows.map((row) => `| ${row.map(cell).join(' | ')} |`),
  );
  if (r.notes.length > 0) lines.push('', ...r.notes.map((n) => `- ${n}`));
}
// The engineers' reading of the numbers (hand-written, committed): what they mean and why.
const reading = await readFile(fileURLToPath(new URL('./READING.md', import.meta.url)), 'utf8').catch(
  (err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return '';
    throw err;
  },
);
if (reading) lines.push('', reading.trim());
await writeFile(out, `${lines.join('\n')}\n`);
console.log(`[bench] wrote ${out} from ${results.length} result file(s)`);
