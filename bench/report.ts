import { readdir, readFile, writeFile } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { PREVIOUS_RUN_LABEL } from './lib/previousFigures.js';
import { checkBenchResult, resultsDir } from './lib/results.js';

/**
 * Writes BENCHMARKS.md from bench/results/*.json (what the benchmarks of `make bench` wrote).
 * A benchmark with no result file (run alone, e.g. `npx tsx bench/realPulpGroup.bench.ts`, then
 * this) keeps its target rows, gap lines and section from the current BENCHMARKS.md, marked as
 * not rerun.
 */
const BENCHMARKS: { id: string; title: string }[] = [
  { id: 'group-sync-makespan', title: 'Group-sync makespan (Pulp API simulator)' },
  { id: 'real-pulp-group', title: 'Group sync on the real Pulp primary' },
  { id: 'api-latency', title: 'API latency of the list endpoints' },
  { id: 'api-latency-1m', title: 'API latency of the list endpoints, 1,000,000 tasks' },
  { id: 'exporter-scrape', title: 'Exporter scrape time' },
];
const ORDER = BENCHMARKS.map((b) => b.id);
// BENCH_REPORT_OUT: where to write instead of BENCHMARKS.md (the report's own tests).
const out = process.env.BENCH_REPORT_OUT ?? fileURLToPath(new URL('../BENCHMARKS.md', import.meta.url));

const files = (
  await readdir(resultsDir).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return [] as string[];
    throw err;
  })
).filter((f) => f.endsWith('.json'));
// A result with a missing figure stops the report before BENCHMARKS.md is touched: a default
// must never be printed as a measurement (issue 17).
const results = await Promise.all(
  files.map(async (f) => {
    const file = `${resultsDir}${f}`;
    return checkBenchResult(JSON.parse(await readFile(file, 'utf8')), file);
  }),
);
results.sort((a, b) => ORDER.indexOf(a.id) - ORDER.indexOf(b.id));

/** What the current BENCHMARKS.md says about one benchmark, to keep when it was not rerun. */
interface KeptBenchmark {
  title: string;
  targetRows: string[];
  gapLines: string[];
  section: string[];
}

const TARGET_COLUMNS = 6;
/** A target row of an older BENCHMARKS.md (without the previous column) widened to this one's. */
function widenTargetRow(row: string): string {
  const cells = row
    .trim()
    .replace(/^\|/, '')
    .replace(/\|$/, '')
    .split(/(?<!\\)\|/)
    .map((c) => c.trim());
  if (cells.length === TARGET_COLUMNS - 1) cells.splice(4, 0, '');
  return `| ${cells.join(' | ')} |`;
}

function keptFromCurrent(text: string, title: string): KeptBenchmark | undefined {
  const all = text.split('\n');
  const start = all.indexOf(`## ${title}`);
  if (start < 0) return undefined;
  let end = all.findIndex((l, i) => i > start && l.startsWith('## '));
  if (end < 0) end = all.length;
  const section = all.slice(start + 1, end);
  while (section.at(-1) === '') section.pop();
  const kept = '_Not rerun in the latest run: kept from the previous BENCHMARKS.md._';
  return {
    title,
    targetRows: all.filter((l) => l.startsWith(`| ${title} |`)).map(widenTargetRow),
    gapLines: all.filter((l) => l.startsWith(`- ${title}, `)),
    section: section[0] === '' && section[1] === kept ? section : ['', kept, ...section],
  };
}

const current = await readFile(out, 'utf8').catch((err: NodeJS.ErrnoException) => {
  if (err.code === 'ENOENT') return '';
  throw err;
});
const ran = new Set(results.map((r) => r.id));
const kept = new Map<string, KeptBenchmark>();
for (const b of BENCHMARKS) {
  if (ran.has(b.id)) continue;
  const k = keptFromCurrent(current, b.title);
  if (k) kept.set(b.id, k);
}
const ids = ORDER.filter((id) => ran.has(id) || kept.has(id));
// Result files of benchmarks this script does not know go last, in file order.
for (const r of results) if (!ids.includes(r.id)) ids.push(r.id);
const resultOf = (id: string) => results.find((r) => r.id === id);

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
  `| benchmark | target | goal | measured | previous (${PREVIOUS_RUN_LABEL}) | met |`,
  '| --- | --- | --- | --- | --- | --- |',
];
for (const id of ids) {
  const r = resultOf(id);
  if (!r) {
    lines.push(...(kept.get(id)?.targetRows ?? []));
    continue;
  }
  for (const t of r.targets) {
    lines.push(
      `| ${cell(r.title)} | ${cell(t.name)} | ${cell(t.target)} | ${cell(t.measured)} | ${cell(t.previous ?? '')} | ${t.met ? 'yes' : '**no**'} |`,
    );
  }
}
const gaps = ids.flatMap((id) => {
  const r = resultOf(id);
  if (!r) return kept.get(id)?.gapLines ?? [];
  return r.targets.filter((t) => !t.met && t.gapCause).map((t) => `- ${r.title}, ${t.name}: ${t.gapCause}`);
});
if (gaps.length > 0) lines.push('', 'Gaps and their causes:', '', ...gaps);
for (const id of ids) {
  const r = resultOf(id);
  if (!r) {
    const k = kept.get(id) as KeptBenchmark;
    lines.push('', `## ${k.title}`, ...k.section);
    continue;
  }
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
const keptText = kept.size > 0 ? `; kept from the previous file: ${[...kept.keys()].join(', ')}` : '';
console.log(`[bench] wrote ${out} from ${results.length} result file(s)${keptText}`);
