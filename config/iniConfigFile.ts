import type { ConfigIssue, ConfigNotice } from './errors.js';
import { ConfigError } from './errors.js';
import {
  type IniConfig,
  type IniSectionName,
  iniConfigSchema,
  iniSectionSchemas,
} from './iniConfigSchema.js';
import { DEFAULT_SECTION, type IniDocument, iniValueLine, parseIni, readIniValue } from './pythonIni.js';
import { toConfigIssues } from './zodIssues.js';

/**
 * Sections of the original that this design does not read, and why. They are accepted so that
 * the original's config.ini works unchanged.
 */
const IGNORED_SECTIONS: Record<string, string> = {
  redis: 'Redis is not used: Temporal replaces RQ and rq-scheduler (see [temporal]); ignored',
};

/**
 * Keys whose empty value the original used as a value, not as "not set": a clone's folder
 * joined with '' is its root; an empty domain list is a list (see the notice).
 */
const EMPTY_VALUES: Record<string, { notice?: string }> = {
  'pulp.git_repo_config_dir': {},
  'pulp.internal_domains': {
    notice:
      'empty: no feed is internal here; the original matched the empty name in every URL and so treated every feed as internal (root CA on every remote, no banned-package removal)',
  },
};

/** `${NAME:default}`: a placeholder of the original's example config that configparser never expanded. */
const PLACEHOLDER = /\$\{[^}]*\}/;

export interface IniConfigCheck {
  /** Present when there are no issues. */
  ini?: IniConfig;
  issues: ConfigIssue[];
  notices: ConfigNotice[];
  /** `section.key` of every value the file sets (not defaults). */
  written: Set<string>;
}

const sectionNames = Object.keys(iniSectionSchemas) as IniSectionName[];

function knownKeys(section: IniSectionName): string[] {
  return Object.keys(iniSectionSchemas[section].shape);
}

/**
 * Reads config.ini text with configparser's rules and validates what this design uses. Every
 * problem is returned at once with its line; settings the design does not use are notices.
 */
export function checkIniConfig(text: string, file: string): IniConfigCheck {
  const { doc, problems } = parseIni(text);
  const issues: ConfigIssue[] = problems.map((p) => ({
    file,
    path: p.path,
    message: p.message,
    line: p.line,
  }));
  const notices: ConfigNotice[] = [];
  const notice = (path: string, message: string, line?: number) =>
    notices.push({ file, path, message, ...(line === undefined ? {} : { line }) });

  for (const [name, section] of doc.sections) {
    if (Object.hasOwn(IGNORED_SECTIONS, name)) {
      const keys = [...section.values.keys()];
      notice(
        name,
        `[${name}]${keys.length ? ` (${keys.join(', ')})` : ''}: ${IGNORED_SECTIONS[name]}`,
        section.line,
      );
    } else if (!(sectionNames as string[]).includes(name)) {
      const hint = sectionNames.find((s) => s === name.toLowerCase());
      notice(
        name,
        `unknown section [${name}]; ignored${hint ? ` (section names are case-sensitive: did you mean [${hint}]?)` : ''}`,
        section.line,
      );
    } else {
      const known = knownKeys(name as IniSectionName);
      for (const [key, value] of section.values) {
        if (!known.includes(key)) notice(`${name}.${key}`, 'unknown key; ignored', value.line);
      }
    }
  }
  const allRaw = [
    ...doc.defaults.values(),
    ...[...doc.sections.values()].flatMap((s) => [...s.values.values()]),
  ]
    .map((v) => v.raw)
    .join('\n')
    .toLowerCase();
  for (const [key, value] of doc.defaults) {
    const referenced = allRaw.includes(`%(${key})s`);
    if (!referenced && !sectionNames.some((s) => knownKeys(s).includes(key))) {
      notice(`${DEFAULT_SECTION}.${key}`, 'key of [DEFAULT] that no section uses; ignored', value.line);
    }
  }

  const raw: Record<string, Record<string, string>> = {};
  const written = new Set<string>();
  for (const section of sectionNames) {
    // [DEFAULT] gives every section its keys, but only sections that exist read them, as in configparser.
    if (!doc.sections.has(section)) continue;
    const values: Record<string, string> = {};
    for (const key of knownKeys(section)) {
      const read = readIniValue(doc, section, key);
      if (read === undefined) continue;
      const path = `${section}.${key}`;
      const line = iniValueLine(doc, section, key);
      if (!read.ok) {
        issues.push({ file, path, message: read.reason, ...(line === undefined ? {} : { line }) });
        continue;
      }
      if (read.value === '') {
        const empty = EMPTY_VALUES[path];
        if (empty) {
          values[key] = '';
          written.add(path);
          if (empty.notice) notice(path, empty.notice, line);
        }
        // Otherwise empty means "not set", as the original's `if not value` checks had it.
        continue;
      }
      if (PLACEHOLDER.test(read.value)) {
        if (section === 'database') {
          notice(
            path,
            `"${read.value}" is a placeholder, not a value; the DB_* environment variables give the database, as in the original`,
            line,
          );
          continue;
        }
        notice(
          path,
          `"${read.value}" is used as written: \${…} is not expanded (the original did not either)`,
          line,
        );
      }
      values[key] = read.value;
      written.add(path);
    }
    raw[section] = values;
  }
  if (raw.auth?.method === 'none') {
    notice(
      'auth.method',
      'none: logins (POST /v1/auth/login) are refused, as in the original',
      iniValueLine(doc, 'auth', 'method'),
    );
  }

  notices.sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
  const result = iniConfigSchema.safeParse(raw);
  if (!result.success) issues.push(...withLines(toConfigIssues(file, result.error), doc));
  if (issues.length > 0 || !result.success) return { issues, notices, written };
  return { ini: result.data, issues, notices, written };
}

function withLines(issues: ConfigIssue[], doc: IniDocument): ConfigIssue[] {
  return issues.map((issue) => {
    const [section, key] = issue.path.split('.');
    const line = section && key ? iniValueLine(doc, section, key) : doc.sections.get(section ?? '')?.line;
    return line === undefined ? issue : { ...issue, line };
  });
}

/** config.ini text to its typed settings; throws ConfigError listing every problem. */
export function parseIniConfig(text: string, file: string): IniConfig {
  const check = checkIniConfig(text, file);
  if (!check.ini) throw new ConfigError(check.issues);
  return check.ini;
}
