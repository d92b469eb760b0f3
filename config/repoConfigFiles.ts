import { readdir, readFile, stat } from 'node:fs/promises';
import { join, posix } from 'node:path';
import type { ConfigIssue } from './errors.js';
import {
  mergeGlobal,
  type RepoConfigEntry,
  type RepoConfigRules,
  registrationFilterName,
  repoConfigEntry,
} from './repoConfigRules.js';
import {
  REPO_CONFIG_FILE_KEYS,
  REPO_CONFIG_GLOBAL_KEYS,
  type RepoConfigFile,
  type RepoConfigGlobal,
  repoConfigFileSchema,
  repoConfigGlobalSchema,
} from './repoConfigSchema.js';
import { toConfigIssues } from './zodIssues.js';

export interface RepoConfigReadResult {
  entries: RepoConfigEntry[];
  /** One or more per broken file, each naming the file and the key. */
  issues: ConfigIssue[];
  /** What was read but not used (unknown keys, values global.json replaces): never a refusal. */
  notices: ConfigIssue[];
  /** Repository files found (global.json not counted). */
  files: number;
  /** Files whose repository the regexes leave out. */
  filteredOut: number;
}

export interface ReadRepoConfigOptions {
  rules: RepoConfigRules;
  /** Filters on the name of registrationFilterName. */
  matches: (name: string) => boolean;
  /** How file paths are reported, e.g. the git_repo_config_dir they are under. */
  displayRoot: string;
}

/**
 * Every repository file under the repo config, as relative posix paths: each `*.json` at any
 * depth whose name does not contain `global.json` (the original's test), dot folders (.git)
 * left out.
 */
async function repoFilesUnder(root: string, rel = ''): Promise<string[]> {
  const found: string[] = [];
  for (const e of await readdir(join(root, rel), { withFileTypes: true })) {
    const path = rel === '' ? e.name : posix.join(rel, e.name);
    if (e.isDirectory() && !e.name.startsWith('.')) found.push(...(await repoFilesUnder(root, path)));
    else if (e.isFile() && e.name.endsWith('.json') && !e.name.includes('global.json')) found.push(path);
  }
  return found.sort();
}

/**
 * The global.json a file is merged with: the one of the first `remote/` folder on its path, as
 * the original did; files under an `internal/` folder get that folder's global.json likewise
 * (the original ignored it, see UPGRADING.md).
 */
export function globalJsonFor(file: string): string | undefined {
  const path = `/${file}`;
  for (const folder of ['/remote/', '/internal/']) {
    const at = path.indexOf(folder);
    if (at >= 0) return `${path.slice(1, at + folder.length)}global.json`;
  }
  return undefined;
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

function unknownKeyNotices(raw: Record<string, unknown>, known: ReadonlySet<string>, file: string) {
  return Object.keys(raw)
    .filter((k) => !known.has(k))
    .map((path) => ({ file, path, message: 'unknown key, ignored (the original did not read it either)' }));
}

interface LoadedGlobal {
  /** What is merged into the files: the file's raw keys, so global.json wins as in the original. */
  raw?: Record<string, unknown>;
  value?: RepoConfigGlobal;
  broken: boolean;
  /** Files left out because this global.json is broken. */
  filesNotApplied: number;
}

async function loadGlobal(root: string, rel: string, shown: string, out: RepoConfigReadResult) {
  const loaded: LoadedGlobal = { broken: false, filesNotApplied: 0 };
  if (!(await stat(join(root, rel)).catch(() => undefined))?.isFile()) return loaded;
  const parsed = await readJson(join(root, rel), shown);
  if (!parsed.ok) {
    out.issues.push(parsed.issue);
    return { ...loaded, broken: true };
  }
  if (!isObject(parsed.value)) {
    out.issues.push({ file: shown, path: '', message: 'must be a JSON object' });
    return { ...loaded, broken: true };
  }
  const raw = parsed.value;
  if ('name' in raw) {
    // The original let it replace every file's name: one repository for the whole folder.
    out.issues.push({
      file: shown,
      path: 'name',
      message: 'a global name would give every repository of the folder the same name',
    });
    return { ...loaded, broken: true };
  }
  const checked = repoConfigGlobalSchema.safeParse(raw);
  if (!checked.success) {
    out.issues.push(...toConfigIssues(shown, checked.error));
    return { ...loaded, broken: true };
  }
  out.notices.push(...unknownKeyNotices(raw, REPO_CONFIG_GLOBAL_KEYS, shown));
  const applied = Object.keys(raw).filter((k) => REPO_CONFIG_FILE_KEYS.has(k));
  if (/(^|\/)internal\/global\.json$/.test(rel) && applied.length > 0) {
    out.notices.push({
      file: shown,
      path: '',
      message: `applied to every repository under its folder (${applied.join(', ')}); the original read only remote/global.json`,
    });
  }
  const known = Object.fromEntries(Object.entries(raw).filter(([k]) => REPO_CONFIG_FILE_KEYS.has(k)));
  return { ...loaded, raw: known, value: checked.data };
}

/**
 * Reads a checked-out repo config (the git_repo_config_dir folder) as the original read it:
 * every repository file, merged with its global.json (which wins), named by its url. Every file
 * is validated on its own, so a broken file is reported with its path and key while every other
 * file still yields its repository; keys not read are notices.
 */
export async function readRepoConfigDir(
  dir: string,
  opts: ReadRepoConfigOptions,
): Promise<RepoConfigReadResult> {
  const result: RepoConfigReadResult = { entries: [], issues: [], notices: [], files: 0, filteredOut: 0 };
  const display = (rel: string) => posix.join(opts.displayRoot, rel);
  const fileOfName = new Map<string, string>();
  const globals = new Map<string, LoadedGlobal>();
  const files = await repoFilesUnder(dir);
  result.files = files.length;
  for (const rel of files) {
    const shown = display(rel);
    const globalRel = globalJsonFor(rel);
    let global: LoadedGlobal | undefined;
    if (globalRel !== undefined) {
      global = globals.get(globalRel);
      if (!global) {
        global = await loadGlobal(dir, globalRel, display(globalRel), result);
        globals.set(globalRel, global);
      }
      if (global.broken) {
        global.filesNotApplied++;
        continue;
      }
    }
    const parsed = await readJson(join(dir, rel), shown);
    if (!parsed.ok) {
      result.issues.push(parsed.issue);
      continue;
    }
    if (!isObject(parsed.value)) {
      result.issues.push({ file: shown, path: '', message: 'must be a JSON object' });
      continue;
    }
    const raw = parsed.value;
    const rawName = raw.name;
    if (
      typeof rawName === 'string' &&
      !opts.matches(registrationFilterName(posix.dirname(rel), rawName, opts.rules))
    ) {
      result.filteredOut++;
      continue;
    }
    const entry = fileEntry(raw, global, shown, opts.rules, result.notices);
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
  for (const [rel, g] of globals) {
    if (g.filesNotApplied > 0)
      result.issues.push({
        file: display(rel),
        path: '',
        message: `${g.filesNotApplied} file(s) not applied: this global.json is invalid`,
      });
  }
  if (files.length === 0) {
    result.issues.push({ file: opts.displayRoot, path: '', message: 'holds no repository file (*.json)' });
  }
  return result;
}

function fileEntry(
  raw: Record<string, unknown>,
  global: LoadedGlobal | undefined,
  shown: string,
  rules: RepoConfigRules,
  notices: ConfigIssue[],
): RepoConfigEntry | { issues: ConfigIssue[] } {
  const checked = repoConfigFileSchema.safeParse(mergeGlobal(global?.raw, raw));
  if (!checked.success) return { issues: toConfigIssues(shown, checked.error) };
  notices.push(...unknownKeyNotices(raw, REPO_CONFIG_FILE_KEYS, shown));
  for (const [key, value] of Object.entries(global?.raw ?? {})) {
    if (key in raw && JSON.stringify(raw[key]) !== JSON.stringify(value))
      notices.push({
        file: shown,
        path: key,
        message: 'replaced by the value of its global.json (global.json wins)',
      });
  }
  if (checked.data.url === undefined && checked.data.vault_load_secrets?.length) {
    notices.push({
      file: shown,
      path: 'vault_load_secrets',
      message: 'ignored: only a repository with a url has a remote to put secrets in',
    });
  }
  notices.push(...otherTypeKeyNotices(checked.data, shown));
  return repoConfigEntry(checked.data, global?.value, shown, rules);
}

/**
 * Keys of this release read for one repository type only; in another type's file they are not
 * used. (The original's deb keys stay silent elsewhere, as they were.)
 */
const TYPE_ONLY_KEYS: Record<string, readonly RepoConfigFile['content_repo_type'][]> = {
  upstream_name: ['container'],
  include_tags: ['container'],
  exclude_tags: ['container'],
  includes: ['python'],
  excludes: ['python'],
};

function otherTypeKeyNotices(file: RepoConfigFile, shown: string): ConfigIssue[] {
  return Object.entries(TYPE_ONLY_KEYS)
    .filter(
      ([key, types]) =>
        key in (file as object) &&
        file[key as keyof RepoConfigFile] != null &&
        !types.includes(file.content_repo_type),
    )
    .map(([key, types]) => ({
      file: shown,
      path: key,
      message: `ignored: read for ${types.join(', ')} repositories only, this one is ${file.content_repo_type}`,
    }));
}
