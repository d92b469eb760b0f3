import { mkdir, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { MissingMeasurementError } from './measured.js';

/** A goal from the issue, with what this run measured against it. */
export interface BenchTarget {
  name: string;
  /** e.g. "≤ 1.10", "< 100 ms". */
  target: string;
  measured: string;
  /** The same measure in an earlier run, for comparison (bench/lib/previousFigures.ts). */
  previous?: string;
  met: boolean;
  /** When not met: the gap and its cause, in one or two sentences. */
  gapCause?: string;
}

/** What one benchmark script writes to bench/results/<id>.json; bench/report.ts turns them into BENCHMARKS.md. */
export interface BenchResult {
  id: string;
  title: string;
  /** How it was measured: setup, sizes, tools; Markdown. */
  method: string;
  table: { columns: string[]; rows: (string | number)[][] };
  targets: BenchTarget[];
  notes: string[];
  startedAt: string;
  durationSeconds: number;
}

/** bench/results/, or BENCH_RESULTS_DIR (the report's tests point it at a directory of their own). */
export const resultsDir = process.env.BENCH_RESULTS_DIR
  ? `${process.env.BENCH_RESULTS_DIR.replace(/\/$/, '')}/`
  : fileURLToPath(new URL('../results/', import.meta.url));

// A figure is present: a finite number or a non-empty string that is not how JavaScript spells
// a missing value. An empty table cell is a figure nobody measured.
const missingText = /^(?:|NaN|undefined|null|-?Infinity)$/;
const presentText = z.string().refine((s) => !missingText.test(s.trim()), 'empty or NaN/undefined/null');
const figure = z.union([z.number().refine(Number.isFinite, 'not a finite number'), presentText]);
const benchResultSchema = z.object({
  id: z.string().min(1),
  title: z.string().min(1),
  method: z.string().min(1),
  table: z.object({ columns: z.array(z.string().min(1)).min(1), rows: z.array(z.array(figure)) }),
  targets: z.array(
    z.object({
      name: z.string().min(1),
      target: z.string().min(1),
      measured: presentText,
      previous: presentText.optional(),
      met: z.boolean(),
      gapCause: z.string().min(1).optional(),
    }),
  ),
  notes: z.array(z.string()),
  startedAt: z.iso.datetime(),
  durationSeconds: z.number().nonnegative(),
});

/** Where in a result a figure is missing: `targets[2].measured`, `table row 3 (p99 ms)`. */
function figurePath(result: unknown, path: readonly PropertyKey[]): string {
  const [head, row, col] = path;
  if (head === 'table' && path[1] === 'rows' && typeof path[2] === 'number' && typeof path[3] === 'number') {
    const columns = (result as { table?: { columns?: unknown[] } }).table?.columns;
    return `table row ${path[2] + 1} (${String(columns?.[path[3]] ?? `column ${path[3] + 1}`)})`;
  }
  if (head === 'targets' && typeof row === 'number') {
    const name = (result as { targets?: { name?: unknown }[] }).targets?.[row]?.name;
    return `target "${String(name ?? row + 1)}" ${String(col ?? '')}`.trim();
  }
  return path.map(String).join('.');
}

/**
 * A result as a benchmark wrote it, or a MissingMeasurementError naming `source` and the first
 * figure that is missing (so the report never prints a default as a measurement).
 */
export function checkBenchResult(value: unknown, source: string): BenchResult {
  const parsed = benchResultSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0] as z.core.$ZodIssue;
    throw new MissingMeasurementError(`${source}: ${figurePath(value, issue.path)}`, issue.message);
  }
  const result = parsed.data as BenchResult;
  const width = result.table.columns.length;
  result.table.rows.forEach((row, i) => {
    if (row.length !== width) {
      throw new MissingMeasurementError(
        `${source}: table row ${i + 1}`,
        `${row.length} cells for ${width} columns`,
      );
    }
  });
  return result;
}

export async function writeBenchResult(result: BenchResult): Promise<string> {
  checkBenchResult(result, `${result.id} (before writing)`);
  await mkdir(resultsDir, { recursive: true });
  const file = `${resultsDir}${result.id}.json`;
  await writeFile(file, `${JSON.stringify(result, null, 2)}\n`);
  return file;
}

/** Percentile of a sample by nearest rank (p in 0..100). */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] as number;
}

export const round = (n: number, digits = 1) => Number(n.toFixed(digits));
