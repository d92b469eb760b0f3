import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  type RepoConfigSource,
  RepoConfigSourceError,
  redactUrlCredentials,
  withRepoConfigCheckout,
} from '../../../activities/git/repoConfigCheckout.js';

const git = (cwd: string, ...args: string[]) =>
  execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', ...args], { cwd })
    .toString()
    .trim();

const made: string[] = [];
afterAll(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

/** A repository with two commits, so that a shallow clone is visible. */
function makeRepo(): string {
  const dir = mkdtempSync(join(tmpdir(), 'pm-git-src-'));
  made.push(dir);
  git(dir, 'init', '-q', '-b', 'main');
  mkdirSync(join(dir, 'repo_config', 'remote'), { recursive: true });
  writeFileSync(join(dir, 'repo_config', 'remote', 'a.json'), '{}');
  git(dir, 'add', '-A');
  git(dir, 'commit', '-q', '-m', 'one');
  writeFileSync(join(dir, 'repo_config', 'remote', 'b.json'), '{}');
  git(dir, 'add', '-A');
  git(dir, 'commit', '-q', '-m', 'two');
  return dir;
}

describe('repo config checkout', () => {
  it('shallow-clones with the git CLI, yields the config dir and commit, then removes the clone', async () => {
    const src = makeRepo();
    let seen: { dir: string; commit: string | null; depth: string; files: string[] } | undefined;
    await withRepoConfigCheckout({ gitUrl: src, gitDir: 'repo_config' }, async (c) => {
      seen = {
        dir: c.dir,
        commit: c.commit,
        depth: git(c.dir, 'rev-list', '--count', 'HEAD'),
        files: readdirSync(join(c.dir, 'remote')).sort(),
      };
      expect(c.displayRoot).toBe('repo_config');
    });
    expect(seen).toMatchObject({
      commit: git(src, 'rev-parse', 'HEAD'),
      depth: '1',
      files: ['a.json', 'b.json'],
    });
    expect(existsSync(seen?.dir ?? '')).toBe(false);
  });

  it('uses a local directory as it is', async () => {
    const src = makeRepo();
    const local = join(src, 'repo_config');
    await withRepoConfigCheckout({ gitDir: 'ignored', localDir: local }, async (c) => {
      expect(c).toMatchObject({ dir: local, commit: null, source: local });
    });
    expect(existsSync(local)).toBe(true);
  });

  it.each([
    ['no source', { gitDir: 'repo_config' }, /neither \[pulp\] git_repo_config nor/, false],
    ['no such folder', { gitUrl: 'SRC', gitDir: 'nope' }, /has no folder nope/, false],
    ['clone fails', { gitUrl: 'file:///nonexistent/repo.git', gitDir: 'x' }, /git clone failed/, true],
    ['missing local dir', { gitDir: 'x', localDir: '/nonexistent/dir' }, /is not a directory/, false],
  ])('%s is a RepoConfigSourceError', async (_case, src: RepoConfigSource, message, retryable) => {
    const source = { ...src, gitUrl: src.gitUrl === 'SRC' ? makeRepo() : src.gitUrl };
    const err = await withRepoConfigCheckout(source, async () => undefined).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RepoConfigSourceError);
    expect((err as Error).message).toMatch(message);
    expect((err as RepoConfigSourceError).retryable).toBe(retryable);
  });

  it('never shows credentials of the git URL', async () => {
    expect(redactUrlCredentials('fatal: https://deploy:t0ken@git.example.com/x.git not found')).toBe(
      'fatal: https://***@git.example.com/x.git not found',
    );
    const err = await withRepoConfigCheckout(
      { gitUrl: 'http://deploy:t0ken@127.0.0.1:9/x.git', gitDir: 'x', cloneTimeoutMs: 20_000 },
      async () => undefined,
    ).catch((e: unknown) => e);
    expect((err as Error).message).not.toContain('t0ken');
  });
});
