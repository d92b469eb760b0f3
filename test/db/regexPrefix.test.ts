import { sql } from 'drizzle-orm';
import { mysqlTable, varchar } from 'drizzle-orm/mysql-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeDatabase, createDatabase, type Database } from '../../db/client.js';
import { caseVariants, literalPrefix, prefixPrefilter } from '../../db/regexPrefix.js';
import { createThrowawayDatabase, type ThrowawayDatabase } from './throwawayDatabase.js';

// `__match` gets `column LIKE '<prefix>%' OR …` in front of its REGEXP when the pattern has a
// literal prefix. The prefilter must never drop a row the case-insensitive REGEXP matches.

describe('literalPrefix', () => {
  const cases: [string, string][] = [
    ['^ext-debian', 'ext-debian'],
    ['^ext-debian.*', 'ext-debian'],
    ['^ext\\-deb\\.x', 'ext-deb.x'],
    ['^ext-debian?', 'ext-debia'],
    ['^ext-debian*', 'ext-debia'],
    ['^ext-debian{0,2}', 'ext-debia'],
    ['^ext-debian+x', 'ext-debian'],
    ['^ext(-debian)', 'ext'],
    ['^ext[-_]', 'ext'],
    ['^ext|^int', ''],
    ['^ext-(a|b)', 'ext-'],
    ['^ext[|]x|y', ''],
    ['^(ext|int)', ''],
    ['ext-debian', ''],
    ['(?i)^ext', ''],
    ['^\\d+', ''],
    ['^\\Qext\\E', ''],
    // Letters with caseless equivalents outside ASCII end the prefix: K (U+212A), S (U+017F).
    ['^ubuntu-jammy', 'ubuntu-jammy'],
    ['^zabbix-kernel', 'zabbix-'],
    ['^rpms', 'rpm'],
    ['^snap', ''],
    ['^épel', ''],
    ['^10.0', '10'],
  ];
  for (const [pattern, prefix] of cases) {
    it(`${pattern} -> '${prefix}'`, () => {
      expect(literalPrefix(pattern)).toBe(prefix);
    });
  }

  it('spells a prefix in every case, up to 32 variants', () => {
    expect(caseVariants('ab-1')).toEqual(['ab-1', 'aB-1', 'Ab-1', 'AB-1']);
    expect(caseVariants('ext-debian')).toHaveLength(32);
    expect(caseVariants('ext-debian').every((v) => v.toLowerCase() === 'ext-de')).toBe(true);
    expect(caseVariants('')).toEqual([]);
  });
});

describe('the prefilter on real MariaDB', () => {
  let scratch: ThrowawayDatabase;
  let db: Database;
  const names = mysqlTable('names', { name: varchar('name', { length: 512 }).notNull() });
  const rows = [
    'ext-debian-12',
    'EXT-Debian-12',
    'Ext-debian_bookworm',
    'ext_debian',
    'ext-debia',
    'extdebian',
    'int-debian',
    ' ext-debian',
    'zabbix-kernel',
    'zabbix-\u212Aernel', // KELVIN SIGN
    '\u017Fnap-2025', // LONG S
    'snap-2025',
    'SNAP-2025',
    'épel',
    'Épel',
    '10.0-x',
    '10x0',
    'a%b',
    'a_b',
    'aXb',
    'ext-debian\next',
  ];

  beforeAll(async () => {
    scratch = await createThrowawayDatabase();
    db = createDatabase(scratch.settings);
    await db.execute(
      sql`CREATE TABLE names (name VARCHAR(512) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL, KEY (name))`,
    );
    await db.insert(names).values(rows.map((name) => ({ name })));
  }, 60_000);

  afterAll(async () => {
    if (db) await closeDatabase(db);
    await scratch?.drop();
  });

  it('PCRE matches an ASCII character caselessly only to its two ASCII cases, except k and s', async () => {
    // Every code point of Unicode against every printable ASCII character at once.
    const [found] = (await db.$client.query(
      `SELECT HEX(seq) AS cp FROM seq_128_to_1114111
       WHERE CONVERT(CHAR(seq USING utf32) USING utf8mb4) COLLATE utf8mb4_bin REGEXP '(?i)^[\\\\x20-\\\\x7e]$'`,
    )) as unknown as [{ cp: string }[]];
    expect(found.map((r) => r.cp).sort()).toEqual(['17F', '212A']);
  }, 60_000);

  it('never drops a row the case-insensitive REGEXP matches, and narrows to an index range', async () => {
    const patterns = [
      '^ext-debian',
      '^EXT-DEBIAN',
      '^ext.debian',
      '^ext\\-debian',
      '^ext-debian?',
      '^zabbix-kernel',
      '^snap',
      '^SNAP-2025',
      '^épel',
      '^10\\.0',
      '^10.0',
      '^a%b',
      '^a_b',
      '^ext|kernel',
      '^ext-debian$',
      '^ ext',
    ];
    for (const pattern of patterns) {
      const regexp = sql`${names.name} REGEXP ${`(?i)${pattern}`}`;
      const prefilter = prefixPrefilter(names.name, pattern) ?? sql`TRUE`;
      const [byRegexp, byBoth] = await Promise.all([
        db.select().from(names).where(regexp),
        db.select().from(names).where(sql`(${prefilter}) AND ${regexp}`),
      ]);
      const sorted = (r: { name: string }[]) => r.map((x) => x.name).sort();
      expect(sorted(byBoth), pattern).toEqual(sorted(byRegexp));
    }
    // The case variants really are matched: every spelling of ext-de* (the prefix stops at 32
    // variants), and nothing else.
    const [matches] = (await db.$client.query(
      db.select().from(names).where(prefixPrefilter(names.name, '^ext-debian')).toSQL().sql,
      db.select().from(names).where(prefixPrefilter(names.name, '^ext-debian')).toSQL().params,
    )) as unknown as [{ name: string }[]];
    expect(matches.map((r) => r.name).sort()).toEqual(
      ['EXT-Debian-12', 'Ext-debian_bookworm', 'ext-debian-12', 'ext-debian\next', 'ext-debia'].sort(),
    );
    // LIKE wildcards in the prefix are literal.
    const [percent] = (await db.$client.query(
      db.select().from(names).where(prefixPrefilter(names.name, '^a%b')).toSQL().sql,
      db.select().from(names).where(prefixPrefilter(names.name, '^a%b')).toSQL().params,
    )) as unknown as [{ name: string }[]];
    expect(percent.map((r) => r.name)).toEqual(['a%b']);
  });
});
