import { readFile } from 'node:fs/promises';
import { isMap, parseDocument } from 'yaml';
import { ConfigError, type ConfigIssue } from './errors.js';
import { crossReferenceIssues, type PulpConfig, pulpConfigSchema } from './pulpConfigSchema.js';
import { toConfigIssues } from './zodIssues.js';

/** Parses and validates pulp_config.yml text; throws ConfigError listing every problem. */
export function parsePulpConfig(text: string, file: string): PulpConfig {
  // uniqueKeys: a server or group written twice is an error, not a silent override.
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: true });
  if (doc.errors.length > 0) {
    const issues: ConfigIssue[] = doc.errors.map((e) => ({
      file,
      path: '',
      message: `YAML ${e.code}: ${e.message.split('\n')[0]?.replace(/:$/, '')}`,
    }));
    throw new ConfigError(issues);
  }
  if (doc.contents !== null && !isMap(doc.contents)) {
    throw new ConfigError([
      { file, path: '', message: 'the file must be a mapping with pulp_servers, credentials, repo_groups' },
    ]);
  }
  const raw: unknown = doc.toJS() ?? {};
  const result = pulpConfigSchema.safeParse(raw);
  const issues = [
    ...(result.success ? [] : toConfigIssues(file, result.error)),
    ...crossReferenceIssues(raw).map((i) => ({ file, path: i.path.join('.'), message: i.message })),
  ];
  if (issues.length > 0 || !result.success) throw new ConfigError(issues);
  return result.data;
}

export async function loadPulpConfig(file: string): Promise<PulpConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new ConfigError([{ file, path: '', message: `cannot read file: ${(err as Error).message}` }]);
  }
  return parsePulpConfig(text, file);
}
