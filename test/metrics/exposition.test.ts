import { Gauge, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { parseIniConfig } from '../../config/loadAppConfig.js';
import { formatIni } from '../../config/pythonIni.js';
import {
  escapeLabelValue,
  formatGaugeFamily,
  formatGaugeFamilyChunks,
  formatSampleValue,
} from '../../metrics/exposition.js';
import type { RepoHealthRow } from '../../metrics/fleetQueries.js';
import { repoHealthAgeFamily, repoHealthFamily } from '../../metrics/registry.js';

// The per-repo families are written without prom-client (metrics/exposition.ts): they must
// come out byte for byte as prom-client prints the same gauge.

const awkward: RepoHealthRow[] = [
  { server: 'pulp1.example.com', repo: 'ext-plain', health: 'green', hasRemote: true, healthAgeSeconds: 60 },
  { server: 'pulp1.example.com', repo: 'quote"d', health: 'red', hasRemote: false, healthAgeSeconds: null },
  { server: 'pulp:8443', repo: 'back\\slash\\', health: null, hasRemote: true, healthAgeSeconds: 0 },
  { server: 'pulp:8443', repo: 'new\nline', health: 'amber', hasRemote: true, healthAgeSeconds: 123456789 },
  {
    server: 'pulp:8443',
    repo: 'ünï-cødé ✓ {a="b"}',
    health: 'green',
    hasRemote: false,
    healthAgeSeconds: 1.5,
  },
];

async function viaPromClient(
  family: typeof repoHealthFamily | typeof repoHealthAgeFamily,
  rows: RepoHealthRow[],
): Promise<string> {
  const registry = new Registry();
  const gauge = new Gauge({
    name: family.name,
    help: family.help,
    labelNames: family.labelNames,
    registers: [registry],
  });
  for (const r of rows) {
    const values = family.labels(r);
    gauge.set(Object.fromEntries(family.labelNames.map((n, i) => [n, values[i] as string])), family.value(r));
  }
  // registry.metrics() ends the last family with '\n'.
  return (await registry.metrics()).replace(/\n$/, '');
}

describe('per-repo families written from rows', () => {
  it('are byte for byte what prom-client prints for the same gauge, awkward label values included', async () => {
    for (const family of [repoHealthFamily, repoHealthAgeFamily]) {
      expect(formatGaugeFamily(family, awkward), family.name).toBe(await viaPromClient(family, awkward));
      expect(formatGaugeFamily(family, []), family.name).toBe(await viaPromClient(family, []));
      // The chunked writer the exporter uses: same text, whatever the chunk size.
      for (const chunkRows of [1, 2, 1000]) {
        const chunks = await formatGaugeFamilyChunks(family, awkward, chunkRows);
        expect(Buffer.concat(chunks).toString(), `${family.name} by ${chunkRows}`).toBe(
          `${await viaPromClient(family, awkward)}\n`,
        );
      }
    }
  });

  it('escape backslash, newline and quote, and format values as prom-client does', () => {
    expect(escapeLabelValue('a\\b\n"c"')).toBe('a\\\\b\\n\\"c\\"');
    expect(escapeLabelValue('plain')).toBe('plain');
    expect(
      [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -1, 0.25].map(formatSampleValue),
    ).toEqual(['Nan', '+Inf', '-Inf', '-1', '0.25']);
  });
});

describe('[exporter] in config.ini', () => {
  const parse = (exporter: Record<string, string>) =>
    parseIniConfig(formatIni({ exporter }), '/etc/pulp_manager/config.ini').exporter;

  it('has documented defaults and reads its keys', () => {
    expect(parse({})).toEqual({
      refresh_check_interval_secs: 2,
      refresh_min_interval_secs: 5,
      refresh_max_age_secs: 15,
      per_repo_series: true,
    });
    expect(parse({ per_repo_series: 'false', refresh_max_age_secs: '60' })).toMatchObject({
      per_repo_series: false,
      refresh_max_age_secs: 60,
    });
  });

  it('refuses a minimum interval above the maximum age, naming the file and key', () => {
    expect(() => parse({ refresh_min_interval_secs: '30', refresh_max_age_secs: '10' })).toThrow(
      /config\.ini.*exporter.*refresh_min_interval_secs.*must not be larger than refresh_max_age_secs/s,
    );
    expect(() => parse({ per_repo_series: 'maybe' })).toThrow(/per_repo_series.*expected true or false/s);
  });
});
