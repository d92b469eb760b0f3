import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { download } from './pulp.js';
import { stack } from './stack.js';

const sh = promisify(execFile);

/**
 * Verifies a published deb distribution's InRelease and Release.gpg with gpgv against the stack's
 * signing key only (dev/pulp.sh makes it): a real signature by that key, not a file that merely
 * looks signed. Rejects with gpgv's output when either does not verify.
 */
export async function verifyDebReleaseSignatures(distUrl: string): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'pm-gpgv-'));
  try {
    await sh('gpg', [
      '--batch',
      '--homedir',
      dir,
      '--dearmor',
      '-o',
      join(dir, 'key.gpg'),
      stack.pulp.signingKeyFile,
    ]);
    for (const name of ['InRelease', 'Release', 'Release.gpg']) {
      await writeFile(join(dir, name), await download(`${distUrl}/${name}`));
    }
    await sh('gpgv', ['--keyring', join(dir, 'key.gpg'), join(dir, 'InRelease')]);
    await sh('gpgv', ['--keyring', join(dir, 'key.gpg'), join(dir, 'Release.gpg'), join(dir, 'Release')]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
