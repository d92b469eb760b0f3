import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The workflow bundle's entry: the .ts source under tsx/vitest, the compiled .js in dist/. */
export function workflowsEntry(): string {
  const ts = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));
  return existsSync(ts) ? ts : fileURLToPath(new URL('../workflows/index.js', import.meta.url));
}
