import { mkdir, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

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

export const resultsDir = fileURLToPath(new URL('../results/', import.meta.url));

export async function writeBenchResult(result: BenchResult): Promise<string> {
  const width = result.table.columns.length;
  result.table.rows.forEach((row, i) => {
    if (row.length !== width)
      throw new Error(`${result.id}: table row ${i + 1} has ${row.length} cells for ${width} columns`);
  });
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
