import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { RepoConfigSourceError, withRepoConfigCheckout } from '../activities/git/repoConfigCheckout.js';
import { ConfigError, type ConfigIssue, type ConfigNotice, formatIssue } from '../config/errors.js';
import { checkIniConfig, parseIniConfig } from '../config/iniConfigFile.js';
import type { IniConfig } from '../config/iniConfigSchema.js';
import {
  applyOriginalEnvironment,
  DEFAULT_CONFIG_PATH,
  DEFAULT_PULP_CONFIG_PATH,
} from '../config/loadAppConfig.js';
import { parsePulpConfig } from '../config/loadPulpConfig.js';
import { readRepoConfigDir } from '../config/repoConfigFiles.js';
import { repoConfigRulesFromIni } from '../config/repoConfigRules.js';

export const VALIDATE_PARTS = ['config-ini', 'pulp-config', 'repo-config'] as const;
export type ValidatePart = (typeof VALIDATE_PARTS)[number];

export interface ValidateTargets {
  configIni?: string;
  pulpConfig?: string;
  /** A directory holding remote/ and internal/, or a git URL (its git_repo_config_dir is read). */
  repoConfig?: string;
  /** The folder inside the git repository; default `[pulp] git_repo_config_dir`. */
  gitDir?: string;
  skip?: ReadonlySet<ValidatePart>;
}

export interface ValidationReport {
  /** One line per part checked, saying what was checked and the counts. */
  summary: string[];
  issues: ConfigIssue[];
  notices: ConfigNotice[];
}

type Env = Record<string, string | undefined>;

async function readText(file: string, issues: ConfigIssue[]): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    issues.push({ file, path: '', message: `cannot read file: ${(err as Error).message}` });
    return undefined;
  }
}

async function isDirectory(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined))?.isDirectory() ?? false;
}

/**
 * Checks config.ini, pulp_config.yml and the repo config without a database, Temporal or Pulp,
 * and returns every problem and notice of all three (a broken file does not hide the others).
 */
export async function validateConfiguration(
  targets: ValidateTargets,
  env: Env = process.env,
): Promise<ValidationReport> {
  const skip = targets.skip ?? new Set<ValidatePart>();
  const report: ValidationReport = { summary: [], issues: [], notices: [] };
  const count = (n: number, what: string, plural = `${what}s`) => `${n} ${n === 1 ? what : plural}`;

  // The repo config's rules come from config.ini; an unusable config.ini leaves the defaults.
  let ini: IniConfig | undefined;
  if (!skip.has('config-ini')) {
    const file = targets.configIni ?? env.PULP_MANAGER_CONFIG_PATH ?? DEFAULT_CONFIG_PATH;
    const text = await readText(file, report.issues);
    if (text !== undefined) {
      const check = checkIniConfig(text, file);
      report.issues.push(...check.issues);
      report.notices.push(...check.notices);
      if (check.ini) {
        const original = applyOriginalEnvironment(
          check.ini,
          env,
          check.written.has('pulp.use_https_for_api'),
        );
        report.notices.push(...original.notices);
        ini = original.ini;
      }
      report.summary.push(
        `${file}: ${check.ini ? 'valid' : 'INVALID'} (${count(check.issues.length, 'problem')}, ${count(check.notices.length, 'notice')})`,
      );
    }
  }

  if (!skip.has('pulp-config')) {
    const file = targets.pulpConfig ?? env.PULP_SYNC_CONFIG_PATH ?? DEFAULT_PULP_CONFIG_PATH;
    const text = await readText(file, report.issues);
    if (text !== undefined) {
      try {
        const fleet = parsePulpConfig(text, file);
        report.summary.push(
          `${file}: valid (${count(Object.keys(fleet.pulp_servers).length, 'server')}, ${count(Object.keys(fleet.repo_groups).length, 'repo group')})`,
        );
      } catch (err) {
        if (!(err instanceof ConfigError)) throw err;
        report.issues.push(...err.issues);
        report.summary.push(`${file}: INVALID (${count(err.issues.length, 'problem')})`);
      }
    }
  }

  if (!skip.has('repo-config')) {
    const settings = ini ?? parseIniConfig('', '(defaults)');
    const given = targets.repoConfig;
    const local =
      given !== undefined
        ? (await isDirectory(given))
          ? given
          : undefined
        : settings.pulp.local_repo_config_dir;
    const gitUrl =
      given !== undefined ? (local === undefined ? given : undefined) : settings.pulp.git_repo_config;
    if (local === undefined && gitUrl === undefined) {
      report.summary.push(
        'repo config: not checked (no --repo-config, and config.ini sets neither [pulp] local_repo_config_dir nor git_repo_config)',
      );
    } else {
      try {
        await withRepoConfigCheckout(
          { localDir: local, gitUrl, gitDir: targets.gitDir ?? settings.pulp.git_repo_config_dir },
          async (checkout) => {
            const read = await readRepoConfigDir(checkout.dir, {
              rules: repoConfigRulesFromIni(settings),
              matches: () => true,
              displayRoot: checkout.displayRoot,
            });
            // Paths inside the checkout are relative: a local file gets its full path, a file
            // of a clone the repository it is in.
            const where = (i: ConfigIssue) => ({
              ...i,
              file: checkout.commit === null ? join(checkout.dir, i.file) : `${checkout.source}: ${i.file}`,
            });
            report.issues.push(...read.issues.map(where));
            report.notices.push(...read.notices.map(where));
            const commit = checkout.commit ? ` at ${checkout.commit.slice(0, 12)}` : '';
            report.summary.push(
              `repo config ${checkout.source}${commit}: ${read.issues.length === 0 ? 'valid' : 'INVALID'} (${count(read.files, 'repository file')}, ${count(read.entries.length, 'repository', 'repositories')}, ${count(read.issues.length, 'problem')}, ${count(read.notices.length, 'notice')})`,
            );
          },
        );
      } catch (err) {
        if (!(err instanceof RepoConfigSourceError)) throw err;
        report.issues.push({ file: err.source, path: '', message: err.message });
        report.summary.push(`repo config ${err.source}: INVALID (cannot be read)`);
      }
    }
  }
  return report;
}

/** The report as printed: what was checked, then every problem, then every notice. */
export function formatValidationReport(report: ValidationReport): string[] {
  return [
    ...report.summary,
    ...(report.issues.length > 0 ? ['problems:', ...report.issues.map((i) => `  - ${formatIssue(i)}`)] : []),
    ...(report.notices.length > 0
      ? ['notices (accepted, not used as written):', ...report.notices.map((n) => `  - ${formatIssue(n)}`)]
      : []),
  ];
}
