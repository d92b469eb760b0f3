import { readFile } from 'node:fs/promises';

/**
 * Reads `[ca] root_ca_file_path` once, for remotes whose feed is in an internal domain (they
 * get it as ca_cert). Null when no root CA is configured.
 */
export function rootCaReader(path: string | undefined): () => Promise<string | null> {
  let cached: Promise<string> | undefined;
  return () => {
    if (!path) return Promise.resolve(null);
    cached ??= readFile(path, 'utf8');
    return cached;
  };
}
