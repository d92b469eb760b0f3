import { execFile } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Where the repo config comes from: `[pulp] local_repo_config_dir`, else a clone of git_repo_config. */
export interface RepoConfigSource {
  gitUrl?: string;
  /** `[pulp] git_repo_config_dir`: the folder inside the git repository. */
  gitDir: string;
  localDir?: string;
  /** Bounds a clone that hangs (unreachable server, huge repository). */
  cloneTimeoutMs?: number;
}

export interface RepoConfigCheckout {
  /** The folder holding remote/ and internal/. */
  dir: string;
  /** What to show for the source: the URL without credentials, or the local directory. */
  source: string;
  /** Commit of the clone; null for a local directory. */
  commit: string | null;
  /** How file paths are reported: relative to the git repository's root. */
  displayRoot: string;
}

export class RepoConfigSourceError extends Error {
  readonly code = 'REPO_CONFIG_SOURCE';
  constructor(
    readonly source: string,
    message: string,
    readonly retryable: boolean,
  ) {
    super(`repo config ${source}: ${message}`);
    this.name = 'RepoConfigSourceError';
  }
}

/** https://user:token@host/x → https://***@host/x: URLs of private repos carry credentials. */
export function redactUrlCredentials(text: string): string {
  return text.replace(/([a-z][a-z0-9+.-]*:\/\/)[^/@\s]+@/gi, '$1***@');
}

/** A plain path (not a URL, not scp-like host:path) is cloned through file:// so --depth applies. */
function cloneUrl(url: string): string {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url) || /^[^/]+@[^/]+:/.test(url)) return url;
  return `file://${isAbsolute(url) ? url : resolve(url)}`;
}

/**
 * Runs `fn` on the repo config: the local directory as is, or a shallow clone of the git
 * repository (the git CLI, no prompts) in a temporary directory removed afterwards.
 */
export async function withRepoConfigCheckout<T>(
  src: RepoConfigSource,
  fn: (checkout: RepoConfigCheckout) => Promise<T>,
): Promise<T> {
  if (src.localDir) {
    const dir = resolve(src.localDir);
    if (!(await stat(dir).catch(() => undefined))?.isDirectory())
      throw new RepoConfigSourceError(dir, 'local_repo_config_dir is not a directory', false);
    return fn({ dir, source: dir, commit: null, displayRoot: '.' });
  }
  if (!src.gitUrl) {
    throw new RepoConfigSourceError(
      '(none)',
      'neither [pulp] git_repo_config nor [pulp] local_repo_config_dir is set',
      false,
    );
  }
  const shown = redactUrlCredentials(src.gitUrl);
  const work = await mkdtemp(join(tmpdir(), 'pulp-manager-repo-config-'));
  try {
    const git = (args: string[], cwd?: string) =>
      run('git', args, {
        cwd,
        timeout: src.cloneTimeoutMs ?? 10 * 60_000,
        maxBuffer: 4 * 1024 * 1024,
        env: { ...process.env, GIT_TERMINAL_PROMPT: '0', GIT_ASKPASS: 'true' },
      });
    try {
      await git(['clone', '--quiet', '--depth', '1', '--single-branch', '--', cloneUrl(src.gitUrl), work]);
    } catch (err) {
      const stderr = String((err as { stderr?: unknown }).stderr ?? (err as Error).message).trim();
      throw new RepoConfigSourceError(shown, `git clone failed: ${redactUrlCredentials(stderr)}`, true);
    }
    const commit = (await git(['rev-parse', 'HEAD'], work)).stdout.trim();
    const dir = join(work, src.gitDir);
    if (!(await stat(dir).catch(() => undefined))?.isDirectory())
      throw new RepoConfigSourceError(
        shown,
        `has no folder ${src.gitDir} ([pulp] git_repo_config_dir)`,
        false,
      );
    return await fn({ dir, source: shown, commit, displayRoot: src.gitDir });
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
