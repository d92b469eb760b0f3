import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { iniConfigSchema } from '../../config/iniConfigSchema.js';
import { temporalConnectionOptions } from '../../temporal/connect.js';

const temporal = (extra: Record<string, string>) =>
  iniConfigSchema.parse({ temporal: { address: 'ns.acct.tmprl.cloud:7233', ...extra } }).temporal;

describe('temporalConnectionOptions ([temporal] TLS and API key)', () => {
  it('plain: no TLS, no API key', async () => {
    expect(await temporalConnectionOptions(temporal({}))).toEqual({
      address: 'ns.acct.tmprl.cloud:7233',
      tls: undefined,
    });
  });

  it('api_key_path: the key from the file (trimmed) and TLS with the system CAs', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pm-apikey-'));
    await writeFile(join(dir, 'key'), 'secret-key\n');
    expect(await temporalConnectionOptions(temporal({ api_key_path: join(dir, 'key') }))).toEqual({
      address: 'ns.acct.tmprl.cloud:7233',
      tls: true,
      apiKey: 'secret-key',
    });
    await writeFile(join(dir, 'empty'), '\n');
    await expect(temporalConnectionOptions(temporal({ api_key_path: join(dir, 'empty') }))).rejects.toThrow(
      /api_key_path: .*empty is empty/,
    );
  });
});
