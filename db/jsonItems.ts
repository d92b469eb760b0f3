// A list's items as JSON text built by MariaDB, one text column per row. A page of 500 tasks
// built in JavaScript costs the API's one thread ~11 ms (mysql2 decoding 16 columns a row,
// drizzle mapping them, Date objects, JSON.stringify); as one text column a row it costs ~1 ms,
// and MariaDB's C code writes the JSON on whichever core is free. The text must read back as
// exactly what the JavaScript path answers (test/db/jsonItems.test.ts compares them row by row):
// dates as toISOString() writes them, booleans as true/false, JSON columns as their values (the
// text may differ in spacing and key order inside a JSON column, never in meaning).
import { type SQL, sql } from 'drizzle-orm';
import {
  MySqlBoolean,
  MySqlColumn,
  MySqlDateTime,
  MySqlDialect,
  type SelectedFields,
} from 'drizzle-orm/mysql-core';

/** A field of a JSON item: a column as the API answers it, or an SQL expression's JSON value. */
export type JsonItemFields = Readonly<Record<string, MySqlColumn | SQL>>;

// Each value as JSON text, `null` for NULL; the object is a CONCAT of them. MariaDB's
// JSON_OBJECT costs twice as much (it re-parses every JSON column and re-checks its
// arguments): 500 tasks ~3.5 ms this way, ~6 ms with JSON_OBJECT, on this machine.
const orNull = (text: SQL) => sql`IFNULL(${text}, 'null')`;

// DATETIME(3) holding UTC → `"YYYY-MM-DDTHH:MM:SS.sssZ"`, toISOString()'s form (%f has 6 digits).
const isoDate = (column: MySqlColumn) =>
  orNull(sql`CONCAT('"', LEFT(DATE_FORMAT(${column}, '%Y-%m-%dT%H:%i:%s.%f'), 23), 'Z"')`);

function jsonValueOf(name: string, field: MySqlColumn | SQL): SQL {
  // An expression is the caller's: it must already be JSON text (or NULL).
  if (!(field instanceof MySqlColumn)) return orNull(field);
  if (field instanceof MySqlDateTime) return isoDate(field);
  // TIMESTAMP / DATE columns would need a formatting of their own (and a time zone): none is listed.
  if (field.dataType === 'date') throw new Error(`JSON item field ${name}: only DATETIME dates`);
  if (field instanceof MySqlBoolean) return orNull(sql`IF(${field}, 'true', 'false')`);
  // A JSON column is inlined as stored: MariaDB's JSON type carries CHECK (JSON_VALID(…)), so its
  // text is JSON (test/db/jsonItems.test.ts checks the constraint is there).
  if (field.getSQLType() === 'json') return orNull(sql`${field}`);
  if (field.dataType === 'number') return orNull(sql`${field}`);
  // Custom columns (exactVarchar) say 'custom': their SQL type tells.
  if (field.dataType === 'string' || /^(var)?char\b|text\b/i.test(field.getSQLType())) {
    return orNull(sql`JSON_QUOTE(${field})`);
  }
  throw new Error(`JSON item field ${name}: no JSON form for ${field.getSQLType()}`);
}

/** The JSON text of an object of `fields`, keys in their order (NULL never: `null` values). */
export function jsonObjectOf(fields: JsonItemFields): SQL {
  const parts = Object.entries(fields).map(
    ([name, field], i) =>
      sql`${sql.raw(`'${i === 0 ? '{' : ','}"${jsonKey(name)}":'`)}, ${jsonValueOf(name, field)}`,
  );
  // Rendered to text once: drizzle would otherwise walk its ~200 chunks on every request.
  const rendered = dialect.sqlToQuery(sql`CONCAT(${sql.join(parts, sql`, `)}, '}')`);
  if (rendered.params.length > 0) throw new Error('a JSON item expression must not take parameters');
  return sql.raw(rendered.sql);
}

const dialect = new MySqlDialect();

function jsonKey(name: string): string {
  // Keys are the spec's own field names, never input: refuse anything that would need quoting.
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new Error(`JSON item key not allowed: ${name}`);
  return name;
}

const columnsOfSelection = new WeakMap<SelectedFields, JsonItemFields>();

/** The columns of a list spec's selection, checked to be columns (the JSON path maps nothing else). */
export function selectionColumns(select: SelectedFields): JsonItemFields {
  let columns = columnsOfSelection.get(select);
  if (columns === undefined) {
    const checked: Record<string, MySqlColumn> = {};
    for (const [name, field] of Object.entries(select)) {
      if (!(field instanceof MySqlColumn)) throw new Error(`list selection ${name}: not a column`);
      checked[name] = field;
    }
    columns = checked;
    columnsOfSelection.set(select, columns);
  }
  return columns;
}

/** A page answer with its items already JSON: `{"items":[…],…rest}` in the object path's key order. */
export function pageJsonText(items: readonly string[], rest: Readonly<Record<string, unknown>>): string {
  const others = JSON.stringify(rest).slice(1);
  return `{"items":[${items.join(',')}]${others === '}' ? '' : ','}${others}`;
}
