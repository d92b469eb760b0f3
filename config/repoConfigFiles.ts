import { readdir, readFile, stat } from 'node:fs/promises';
import { join, posix, relative, sep } from 'node:path';
import type { ConfigIssue } from './errors.js';
import {
  mergeGlobal,
  type RepoConfigEntry,
  type RepoConfigRules,
  repoConfigEntry,
  repoConfigRuleIssues,
  repoNameFor,
} from './repoConfigRules.js';
import {
  REPO_CONFIG_KINDS,
  type RepoConfigGlobal,
  type RepoConfigKind,
  repoConfigFileSchema,
  repoConfigGlobalSchema,
} from './repoConfigSchema.js';
import { toConfigIssues } from './zodIssues.js';

export interface RepoConfigReadResult {
  entries: RepoConfigEntry[];
  /** One or more per broken file, each naming the file and the key. */
  issues: ConfigIssue[];
  /** Repository files found (global.json not counted). */
  files: number;
  /** Files whose repository the regexes leave out. */
  filteredOut: number;
}

export interface ReadRepoConfigOptions {
  rules: RepoConfigRules;
  /** Filters on the final (prefixed) repository name. */
  matches: (name: string) => boolean;
  /** How file paths are reported, e.g. the git_repo_config_dir they are under. */
  displayRoot: string;
}

async function isDirectory(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined))?.isDirectory() ?? false;
}

async function jsonFilesUnder(dir: string): Promise<string[]> {
  const found: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, e.name);
    if (e.isDirectory()) found.push(...(await jsonFilesUnder(path)));
    else if (e.isFile() && e.name.endsWith('.json') && e.name !== 'global.json') found.push(path);
  }
  return found.sort();
}

type Parsed = { ok: true; value: unknown } | { ok: false; issue: ConfigIssue };

async function readJson(path: string, display: string): Promise<Parsed> {
  try {
    return { ok: true, value: JSON.parse(await readFile(path, 'utf8')) as unknown };
  } catch (err) {
    return {
      ok: false,
      issue: { file: display, path: '', message: `invalid JSON: ${(err as Error).message}` },
    };
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Reads a checked-out repo config (the folder holding remote/ and internal/): every file is
 * validated on its own, so a broken file is reported with its path and key while every other
 * file still yields its repository.
 */
export async function readRepoConfigDir(
  dir: string,
  opts: ReadRepoConfigOptions,
): Promise<RepoConfigReadResult> {
  const result: RepoConfigReadResult = { entries: [], issues: [], files: 0, filteredOut: 0 };
  const display = (path: string) =>
    posix.join(opts.displayRoot, relative(dir, path).split(sep).join(posix.sep));
  const fileOfName = new Map<string, string>();
  let folders = 0;
  for (const kind of REPO_CONFIG_KINDS) {
    const folder = join(dir, kind);
    if (!(await isDirectory(folder))) continue;
    folders++;
    const files = await jsonFilesUnder(folder);
    result.files += files.length;
    const global = await readGlobal(folder, display(join(folder, 'global.json')));
    if (global.issues.length > 0) {
      result.issues.push(...global.issues, {
        file: display(folder),
        path: '',
        message: `${files.length} file(s) not applied: their global.json is invalid`,
      });
      continue;
    }
    for (const path of files) {
      const shown = display(path);
      const parsed = await readJson(path, shown);
      if (!parsed.ok) {
        result.issues.push(parsed.issue);
        continue;
      }
      if (!isObject(parsed.value)) {
        result.issues.push({ file: shown, path: '', message: 'must be a JSON object' });
        continue;
      }
      const rawName = parsed.value.name;
      if (typeof rawName === 'string' && !opts.matches(repoNameFor(kind, rawName, opts.rules))) {
        result.filteredOut++;
        continue;
      }
      const entry = fileEntry(parsed.value, global.value, kind, shown, opts);
      if ('issues' in entry) {
        result.issues.push(...entry.issues);
        continue;
      }
      const other = fileOfName.get(entry.name);
      if (other !== undefined) {
        result.issues.push({
          file: shown,
          path: 'name',
          message: `repository ${entry.name} is also defined by ${other}`,
        });
        continue;
      }
      fileOfName.set(entry.name, shown);
      result.entries.push(entry);
    }
  }
  if (folders === 0) {
    result.issues.push({
      file: opts.displayRoot,
      path: '',
      message: 'holds neither a remote/ nor an internal/ folder',
    });
  }
  return result;
}

async function readGlobal(
  folder: string,
  shown: string,
): Promise<{ value?: RepoConfigGlobal; issues: ConfigIssue[] }> {
  const path = join(folder, 'global.json');
  if (!(await stat(path).catch(() => undefined))?.isFile()) return { issues: [] };
  const parsed = await readJson(path, shown);
  if (!parsed.ok) return { issues: [parsed.issue] };
  const checked = repoConfigGlobalSchema.safeParse(parsed.value);
  if (!checked.success) return { issues: toConfigIssues(shown, checked.error) };
  return { value: checked.data, issues: [] };
}

function fileEntry(
  raw: Record<string, unknown>,
  global: RepoConfigGlobal | undefined,
  kind: RepoConfigKind,
  shown: string,
  opts: ReadRepoConfigOptions,
): RepoConfigEntry | { issues: ConfigIssue[] } {
  const checked = repoConfigFileSchema.safeParse(mergeGlobal(global, raw));
  if (!checked.success) return { issues: toConfigIssues(shown, checked.error) };
  const ruleIssues = repoConfigRuleIssues(checked.data, kind);
  if (ruleIssues.length > 0)
    return { issues: ruleIssues.map(([path, message]) => ({ file: shown, path, message })) };
  return repoConfigEntry(checked.data, kind, shown, opts.rules);
}
