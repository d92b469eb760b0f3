import { sql } from 'drizzle-orm';
import { customType, datetime } from 'drizzle-orm/mysql-core';

/**
 * A varchar compared byte for byte (utf8mb4_bin). Pulp's names are unique case-sensitively
 * (`Foo` and `foo` can both exist), so our unique keys must be too; it also makes sorting and
 * `__match` behave like JavaScript string order and regexes instead of the server's
 * case-insensitive default collation.
 */
export const exactVarchar = customType<{ data: string; driverData: string; config: { length: number } }>({
  dataType(config) {
    return `varchar(${config?.length ?? 255}) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`;
  },
});

/**
 * JSON that reads back as a value on both supported servers: MySQL 8 sends a JSON column as
 * JSON (mysql2 parses it), MariaDB's JSON is a LONGTEXT alias and arrives as a string, which
 * drizzle's built-in `json` column would hand back unparsed.
 */
export function jsonValue<T>(name: string) {
  return customType<{ data: T; driverData: string }>({
    dataType() {
      return 'json';
    },
    toDriver(value) {
      return JSON.stringify(value);
    },
    fromDriver(value) {
      return (typeof value === 'string' ? JSON.parse(value) : value) as T;
    },
  })(name);
}

/**
 * Every timestamp is a DATETIME(3) holding UTC. DATETIME, unlike TIMESTAMP, does not depend on
 * the session time zone; drizzle writes and reads Date objects as UTC strings.
 */
export function utcDatetime(name: string) {
  return datetime(name, { mode: 'date', fsp: 3 });
}

/** date_created / date_last_updated on every table, as the original kept them. */
export function auditDates() {
  return {
    date_created: utcDatetime('date_created').notNull().default(sql`(utc_timestamp(3))`),
    date_last_updated: utcDatetime('date_last_updated')
      .notNull()
      .default(sql`(utc_timestamp(3))`)
      .$onUpdate(() => new Date()),
  };
}
