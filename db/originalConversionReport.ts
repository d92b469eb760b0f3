import type { OriginalConversion } from './originalDatabase.js';

/** What `pulp-manager migrate` prints about a conversion of the original's database. */
export function originalConversionReport(
  database: string,
  conversion: OriginalConversion | undefined,
): string[] {
  if (conversion === undefined) return [];
  const lines = conversion.copied
    ? [
        `converted database ${database} of the original Pulp Manager (alembic revision ${conversion.revision}) in place, every id kept:`,
        ...Object.entries(conversion.rows).map(([table, n]) => `  ${table}: ${n} row(s)`),
      ]
    : [
        `database ${database} was converted from the original Pulp Manager (alembic revision ${conversion.revision}) by an earlier run`,
      ];
  lines.push(
    `the original's tables are kept unchanged as ${conversion.backupTables.join(', ')}; once the API serves the ` +
      `history you expect, drop them with: DROP TABLE ${conversion.backupTables.map((t) => `\`${t}\``).join(', ')};`,
  );
  return lines;
}
