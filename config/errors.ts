/** One problem found in a configuration file: where it is and why it is wrong. */
export interface ConfigIssue {
  file: string;
  /** Dotted key path inside the file, e.g. `pulp_servers.pulp1:443.repo_groups.ext.max_runtime`. */
  path: string;
  message: string;
  /** Line in the file, where the parser knows it (config.ini). */
  line?: number;
}

/**
 * Something accepted but not used as written (a setting of the original that this design does
 * not need, an unknown key): logged once at load and listed by `config validate`, never refused.
 */
export type ConfigNotice = ConfigIssue;

export function formatIssue(issue: ConfigIssue): string {
  const at = issue.line === undefined ? issue.file : `${issue.file}:${issue.line}`;
  return `${at}: ${issue.path || '(root)'}: ${issue.message}`;
}

/** Every problem of a configuration at once, so an operator fixes them in one pass. */
export class ConfigError extends Error {
  readonly code = 'CONFIG_INVALID';

  constructor(readonly issues: readonly ConfigIssue[]) {
    super(
      `invalid configuration (${issues.length} problem${issues.length === 1 ? '' : 's'}):\n${issues
        .map((i) => `  - ${formatIssue(i)}`)
        .join('\n')}`,
    );
    this.name = 'ConfigError';
  }
}
