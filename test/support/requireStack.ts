import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

// e2e tests talk to the real local stack; say how to start it instead of failing on a socket error.
export default async function requireStack(): Promise<void> {
  const status = fileURLToPath(new URL('../../dev/status', import.meta.url));
  try {
    await promisify(execFile)('bash', [status]);
  } catch (err) {
    const out = (err as { stdout?: string }).stdout ?? '';
    throw new Error(`the local stack is not fully up; run \`make stack-up\` (or \`make test\`).\n${out}`);
  }
}
