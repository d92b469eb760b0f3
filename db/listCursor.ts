// Keyset pagination for the list layer: a cursor names the last row of a page by its sort key
// (the sort_by column, if any, then the spec's tiebreak), so the next page is an index seek
// "after this key" whatever its depth, instead of an OFFSET over every row before it.
//
// The cursor is opaque to clients: base64url of JSON {s: sort_by, o: order, k: key values,
// p: the page number it leads to}. Dates travel as {"d": ISO 8601}. A cursor is only valid
// with the sort_by and order_by it was made for; anything else is a ListQueryError on `cursor`.
import { and, eq, gt, gte, inArray, isNotNull, isNull, lt, lte, or, type SQL, sql } from 'drizzle-orm';
import type { MySqlColumn } from 'drizzle-orm/mysql-core';
import { z } from 'zod';

export type KeyValue = string | number | boolean | Date | null;

/** One column of the sort key and how its values compare. */
export interface KeyColumn {
  column: MySqlColumn;
  kind: 'string' | 'number' | 'date' | 'enum' | 'boolean';
  /** ENUM columns order by declaration, not text: "after" is the list of later values. */
  enumValues?: readonly string[];
}

export interface CursorState {
  sortBy: string | null;
  order: 'asc' | 'desc';
  key: KeyValue[];
  page: number;
}

const MAX_CURSOR_LENGTH = 4096;

const keyValue = z.union([
  z.string().max(1024),
  z.number().finite(),
  z.boolean(),
  z.null(),
  z.strictObject({ d: z.iso.datetime() }).transform((v) => new Date(v.d)),
]);
const cursorJson = z.strictObject({
  s: z.string().nullable(),
  o: z.enum(['asc', 'desc']),
  k: z.array(keyValue).min(1).max(8),
  p: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
});

export function encodeCursor(state: CursorState): string {
  const k = state.key.map((v) => (v instanceof Date ? { d: v.toISOString() } : v));
  return Buffer.from(JSON.stringify({ s: state.sortBy, o: state.order, k, p: state.page })).toString(
    'base64url',
  );
}

/** The cursor's state, or a reason why it is not one of ours. */
export function decodeCursor(text: string): CursorState | string {
  if (text.length > MAX_CURSOR_LENGTH || !/^[A-Za-z0-9_-]+$/.test(text)) return 'not a cursor of this API';
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch (err) {
    return `not a cursor of this API (${err instanceof Error ? err.message : String(err)})`;
  }
  const parsed = cursorJson.safeParse(json);
  if (!parsed.success) return 'not a cursor of this API';
  const { s, o, k, p } = parsed.data;
  return { sortBy: s, order: o, key: k, page: p };
}

/**
 * Whether `value` can be a value of this key column: a wrong type (a cursor crafted by hand)
 * must be a 422, not a comparison the server coerces in surprising ways.
 */
export function keyValueFits(key: KeyColumn, value: KeyValue): boolean {
  if (value === null) return !key.column.notNull;
  switch (key.kind) {
    case 'date':
      return value instanceof Date;
    case 'number':
      return typeof value === 'number' && Number.isSafeInteger(value);
    case 'boolean':
      return typeof value === 'boolean';
    case 'enum':
      return typeof value === 'string' && (key.enumValues ?? []).includes(value);
    case 'string':
      return typeof value === 'string';
  }
}

const never = sql`FALSE`;

// Comparisons in the order of the page: MariaDB sorts NULL first ascending and last descending.
function strictlyAfter(key: KeyColumn, value: KeyValue, order: 'asc' | 'desc'): SQL {
  const { column, enumValues } = key;
  if (value === null) return order === 'asc' ? isNotNull(column) : never;
  let after: SQL;
  if (enumValues !== undefined) {
    const at = enumValues.indexOf(String(value));
    const later = order === 'asc' ? enumValues.slice(at + 1) : enumValues.slice(0, Math.max(at, 0));
    after = later.length > 0 ? inArray(column, [...later]) : never;
  } else {
    after = order === 'asc' ? gt(column, value) : lt(column, value);
  }
  return !column.notNull && order === 'desc' ? (or(after, isNull(column)) as SQL) : after;
}

const sameAs = (key: KeyColumn, value: KeyValue): SQL =>
  value === null ? isNull(key.column) : eq(key.column, value);

/** Rows strictly after `values` in the order of `keys` (all in `order`). */
export function afterKey(
  keys: readonly KeyColumn[],
  values: readonly KeyValue[],
  order: 'asc' | 'desc',
): SQL {
  let condition: SQL | undefined;
  for (let i = keys.length - 1; i >= 0; i--) {
    const key = keys[i] as KeyColumn;
    const value = values[i] ?? null;
    const after = strictlyAfter(key, value, order);
    condition = condition === undefined ? after : (or(after, and(sameAs(key, value), condition)) as SQL);
  }
  const [first] = keys;
  const firstValue = values[0] ?? null;
  if (first === undefined || condition === undefined) return never;
  if (keys.length === 1 || firstValue === null || first.enumValues !== undefined) return condition;
  // A bound on the leading column alone gives the optimizer an index range to seek to.
  const bound = order === 'asc' ? gte(first.column, firstValue) : lte(first.column, firstValue);
  const leading = !first.column.notNull && order === 'desc' ? or(bound, isNull(first.column)) : bound;
  return and(leading, condition) as SQL;
}
