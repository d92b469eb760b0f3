import { describe, expect, it } from 'vitest';
import { createPulpClient } from '../../pulp/client.js';
import { ensureRepository, RemoteSpecError } from '../../pulp/ensureRepository.js';

// What a python or container remote gets is checked on the real Pulp (test/e2e/pythonContainerRepos);
// here: a container remote without its image name is refused before Pulp is called.
describe('ensureRepository for container repositories', () => {
  it('refuses a container remote without upstream_name, naming the url, without calling Pulp', async () => {
    let calls = 0;
    const client = createPulpClient({
      baseUrl: 'http://pulp.invalid',
      username: 'u',
      password: async () => 'p',
      fetchImpl: async () => {
        calls++;
        return new Response('{}', { status: 500 });
      },
    });
    const err = await ensureRepository(client, {
      name: 'ext-c',
      repoType: 'container',
      basePath: 'containers/ext-c',
      remote: { url: 'https://registry.example.org' },
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RemoteSpecError);
    expect((err as RemoteSpecError).code).toBe('REMOTE_SPEC_INVALID');
    expect((err as Error).message).toBe(
      'a container remote needs upstream_name (the image name at https://registry.example.org)',
    );
    expect(calls).toBe(0);
  });
});
