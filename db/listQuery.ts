// The one query layer behind every paged list endpoint of the API. A ListSpec names the rows
// (a table, optional joins, the selected columns) and an allow-list of query fields; listPage
// turns the query string of a request into WHERE / ORDER BY / LIMIT and returns
// {items, page, page_size, total}. Anything outside the allow-list is rejected with a
// ListQueryError naming the offending parameter, which the API maps to 422.
//
// Query language (as in the original API):
//   <field>=<value>          exact match; enum values are checked against their list,
//                            booleans are true/false/1/0 (and the other spellings pydantic
//                            took: yes/no, on/off, t/f, y/n, any case), numbers are integers
//   <field>__match=<regex>   MariaDB REGEXP (PCRE) on string fields, case-insensitive as in
//                            the original (whose columns had a _ci collation; ours are
//                            utf8mb4_bin, so the pattern gets a leading (?i)); at most 256
//                            characters, and at most REGEX_MATCH_LIMIT steps per value
//   <field>__le / __ge       on date fields, ISO 8601 (a date, or a date-time with optional
//                            seconds, fraction and offset; without an offset it means UTC)
//   sort_by=<field>          any allow-listed sortable field; ENUM columns sort in their
//                            declaration order (db/enums.ts), like the original's ids
//   order_by=asc|desc        also applies to the default order (primary key) without sort_by
//   page (>= 1), page_size   page_size above max_page_size is clamped to it, not rejected:
//                            the response's page_size says what was applied
//   cursor=<next>            the `next` of the previous answer: the page after it, by an index
//                            seek on the sort key (db/listCursor.ts); not with `page`
//
// Cost does not grow with the table: the total is counted once per filter and reused for
// total_cache_seconds (db/ttlCache.ts; the answer's total_as_of says when it was counted),
// deep page numbers seek from boundary keys remembered by the same cache instead of an OFFSET
// over every row before them, a `__match` with a literal prefix reads an index range first
// (db/regexPrefix.ts), and every statement runs under max_statement_time
// (db/statementLimit.ts): past it, a 422 on the `__match` field when a pattern was involved,
// else ListStatementTimeoutError (503 with Retry-After).
import { and, asc, count, desc, eq, gte, lte, type SQL, type Subquery, sql } from 'drizzle-orm';
import {
  getTableConfig,
  type MySqlColumn,
  type MySqlTable,
  type SelectedFields,
} from 'drizzle-orm/mysql-core';
import type { MySql2Database } from 'drizzle-orm/mysql2';
import type { SelectResultFields } from 'drizzle-orm/query-builders/select.types';
import { z } from 'zod';
import { ConcurrencySlots } from './concurrencySlots.js';
import { mysqlErrno, mysqlErrorNumber } from './driverErrors.js';
import { type JsonItemFields, jsonObjectOf, selectionColumns } from './jsonItems.js';
import {
  afterKey,
  type CursorState,
  decodeCursor,
  encodeCursor,
  type KeyColumn,
  type KeyValue,
  keyValueFits,
} from './listCursor.js';
import { prefixPrefilter } from './regexPrefix.js';
import { withStatementLimit } from './statementLimit.js';
import { TtlCache } from './ttlCache.js';

export type ListFieldKind = 'string' | 'number' | 'date' | 'enum' | 'boolean';

interface ListFieldBase {
  /** The column the field filters and sorts on (of `from` or of a joined table). */
  column: MySqlColumn;
  /** Accept filters on this field (default true). */
  filter?: boolean;
  /** Accept `sort_by=<field>` (default true). */
  sort?: boolean;
}

export type ListField =
  | (ListFieldBase & { kind: 'string' | 'number' | 'date' | 'boolean' })
  | (ListFieldBase & { kind: 'enum'; values: readonly string[] });

export interface ListJoin {
  type: 'inner' | 'left';
  table: MySqlTable;
  on: SQL;
  /**
   * Every row of `from` has exactly one match (a NOT NULL foreign key to the joined table's
   * primary key), so the join neither drops nor repeats rows: the total and the page's keys
   * are read without it unless the request filters or sorts on this table. A fixed `where`
   * of listPage must not use it. On 10,000 server repos this takes the count from ~8 ms (a
   * join per row) to ~1 ms (an index range).
   */
  exactlyOne?: boolean;
}

export interface ListSpec<TSelection extends SelectedFields> {
  from: MySqlTable;
  /** Joined tables. A left join's columns still type as non-null in items: select with care. */
  joins?: readonly ListJoin[];
  select: TSelection;
  fields: Readonly<Record<string, ListField>>;
  /**
   * Unique ordering appended after sort_by so that LIMIT/OFFSET pages never overlap or skip
   * rows when sort values tie. Defaults to the primary key of `from`.
   */
  tiebreak?: readonly MySqlColumn[];
}

/** A spec that went through defineListSpec: checked, with its tiebreak resolved. */
export type DefinedListSpec<TSelection extends SelectedFields> = ListSpec<TSelection> & {
  tiebreak: readonly MySqlColumn[];
};

export interface ListPaging {
  default_page_size: number;
  max_page_size: number;
  /** Server-side limit of each list statement in ms ([paging], >= 1); 0 turns it off. Default 500. */
  list_statement_timeout_ms?: number;
  /** How long a total (and deep-page boundaries) is reused, in seconds ([paging], >= 1); 0: count every page. Default 5. */
  total_cache_seconds?: number;
}

export const LIST_DEFAULTS = { list_statement_timeout_ms: 500, total_cache_seconds: 5 } as const;

/** PCRE2 match limit per value for `__match` (see parseFilter). */
export const REGEX_MATCH_LIMIT = 1_000_000;

/** A `__match` pattern as the server runs it: bounded and case-insensitive. */
const serverPattern = (pattern: string) => `(*LIMIT_MATCH=${REGEX_MATCH_LIMIT})(?i)${pattern}`;

/** The longest `__match` pattern accepted. */
export const MAX_MATCH_PATTERN_LENGTH = 256;

export interface ListPage<T> {
  items: T[];
  page: number;
  page_size: number;
  /** Rows matching the filters when they were counted (total_as_of); cached, see total_cache_seconds. */
  total: number;
  /** When `total` was counted (ISO 8601). */
  total_as_of: string;
  /** The cursor of the next page; null on the last page. */
  next: string | null;
}

export type ListQueryErrorCode =
  | 'unknown_parameter'
  | 'invalid_value'
  | 'invalid_date'
  | 'invalid_regex'
  | 'unknown_sort_column'
  | 'invalid_order_by'
  | 'invalid_page'
  | 'invalid_page_size';

/** A list statement ran past [paging] list_statement_timeout_ms with no pattern to blame. */
export class ListStatementTimeoutError extends Error {
  readonly code = 'LIST_STATEMENT_TIMEOUT';
  /** Seconds a client should wait before asking again. */
  readonly retryAfterSeconds = 1;
  constructor(timeoutMs: number) {
    super(`the list query took longer than ${timeoutMs} ms; try again, or narrow the filters`);
    this.name = 'ListStatementTimeoutError';
  }
}

export class ListQueryError extends Error {
  readonly code: ListQueryErrorCode;
  /** The query parameter at fault, as the client sent it (`date_queued__le`, `sort_by`, …). */
  readonly field: string;
  readonly value: string;

  constructor(code: ListQueryErrorCode, field: string, value: string, reason: string) {
    super(`${field}: ${reason}`);
    this.name = 'ListQueryError';
    this.code = code;
    this.field = field;
    this.value = value;
  }
}

/** The query string of a request: one value per key, as the API framework hands it over. */
export type ListQueryInput = Readonly<Record<string, string | undefined>>;

type Database = MySql2Database<Record<string, unknown>>;

const controlKeys = new Set(['page', 'page_size', 'sort_by', 'order_by', 'cursor']);

const positiveInteger = z
  .string()
  .regex(/^\d{1,15}$/)
  .transform(Number)
  .pipe(z.number().int().min(1));
const integer = z
  .string()
  .regex(/^-?\d{1,15}$/)
  .transform(Number);
/** The spellings of a boolean filter value (pydantic's), compared in lower case. */
export const BOOLEAN_TEXTS = {
  true: ['true', '1', 'yes', 'y', 'on', 't'],
  false: ['false', '0', 'no', 'n', 'off', 'f'],
} as const;
const trueTexts = new Set<string>(BOOLEAN_TEXTS.true);
const falseTexts = new Set<string>(BOOLEAN_TEXTS.false);
const booleanText = z
  .string()
  .transform((v) => v.toLowerCase())
  .refine((v) => trueTexts.has(v) || falseTexts.has(v))
  .transform((v) => trueTexts.has(v));
const orderText = z.enum(['asc', 'desc']);
const isoDateTime = z.union([z.iso.date(), z.iso.datetime({ offset: true, local: true })]);

/**
 * ISO 8601 → Date. Also forgives the two ways such a value gets mangled on its way through a
 * URL or a shell: a space instead of `T`, and a `+hh:mm` offset whose `+` was decoded as a space.
 */
export function parseIsoDate(text: string): Date | undefined {
  // A Unix time, which the original's date parameters (pydantic) also took: seconds, or
  // milliseconds above 2e10 as pydantic read them.
  if (/^\d{1,14}(?:\.\d{1,6})?$/.test(text.trim())) {
    const n = Number(text.trim());
    return new Date(n > 2e10 ? n : n * 1000);
  }
  const repaired = text
    .trim()
    .replace(/^(\d{4}-\d\d-\d\d) (\d\d:)/, '$1T$2')
    .replace(/(T\d\d:\d\d(?::\d\d(?:\.\d+)?)?) (\d\d:?\d\d)$/, '$1+$2');
  if (!isoDateTime.safeParse(repaired).success) return undefined;
  const hasZone = /(?:Z|[+-]\d\d:?\d\d)$/.test(repaired);
  const isDateOnly = !repaired.includes('T');
  const date = new Date(isDateOnly || hasZone ? repaired : `${repaired}Z`);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

/** The allow-list checks a spec must pass once, at definition time. */
export function defineListSpec<TSelection extends SelectedFields>(
  spec: ListSpec<TSelection>,
): DefinedListSpec<TSelection> {
  for (const name of Object.keys(spec.fields)) {
    if (name.includes('__') || controlKeys.has(name)) throw new Error(`list field name not allowed: ${name}`);
  }
  const tiebreak = spec.tiebreak ?? primaryKeyColumns(spec.from);
  if (tiebreak.length === 0) throw new Error(`list spec on ${getTableConfig(spec.from).name}: no tiebreak`);
  return { ...spec, tiebreak };
}

function primaryKeyColumns(table: MySqlTable): MySqlColumn[] {
  const config = getTableConfig(table);
  const single = config.columns.filter((column) => column.primary);
  return single.length > 0 ? single : (config.primaryKeys[0]?.columns ?? []);
}

interface ParsedQuery {
  conditions: SQL[];
  /** Tables whose columns the request's filters use. */
  filteredTables: Set<MySqlTable>;
  /** The table of the sort_by column, if any. */
  sortTable: MySqlTable | undefined;
  regexes: { key: string; pattern: string }[];
  order: SQL[];
  /** The sort key: the sort_by column, if any, then the tiebreak. */
  sortKey: KeyColumn[];
  sortBy: string | null;
  direction: 'asc' | 'desc';
  cursor: CursorState | undefined;
  page: number;
  pageSize: number;
}

function fieldFor(spec: ListSpec<SelectedFields>, name: string): ListField | undefined {
  return Object.hasOwn(spec.fields, name) ? spec.fields[name] : undefined;
}

function parseFilter(key: string, value: string, field: ListField): SQL {
  const [, operator] = key.split('__');
  const { column } = field;
  const invalid = (reason: string) => new ListQueryError('invalid_value', key, value, reason);
  if (operator === 'match') {
    if (value.length > MAX_MATCH_PATTERN_LENGTH) {
      throw new ListQueryError(
        'invalid_regex',
        key,
        value,
        `longer than ${MAX_MATCH_PATTERN_LENGTH} characters`,
      );
    }
    // PCRE stops a pattern after this many backtracking steps on one value (MariaDB's default
    // is 10,000,000, ~0.7 s of one value): the statement time limit is checked between rows,
    // so this bounds how far a catastrophic pattern can overshoot it (~70 ms).
    const regexp = sql`${column} REGEXP ${serverPattern(value)}`;
    const prefilter = prefixPrefilter(column, value);
    return prefilter === undefined ? regexp : (and(prefilter, regexp) as SQL);
  }
  if (field.kind === 'date') {
    const date = parseIsoDate(value);
    if (date === undefined) {
      throw new ListQueryError('invalid_date', key, value, `not an ISO 8601 date or date-time: ${value}`);
    }
    // Through drizzle's operators a column maps the Date itself (to its UTC DATETIME text).
    if (operator === 'le') return lte(column, date);
    if (operator === 'ge') return gte(column, date);
    return eq(column, date);
  }
  switch (field.kind) {
    case 'string':
      return eq(column, value);
    case 'number': {
      const parsed = integer.safeParse(value);
      if (!parsed.success) throw invalid(`not an integer: ${value}`);
      return eq(column, parsed.data);
    }
    case 'boolean': {
      const parsed = booleanText.safeParse(value);
      if (!parsed.success) throw invalid(`not a boolean (true, false, 1, 0, yes, no): ${value}`);
      return eq(column, parsed.data);
    }
    case 'enum':
      if (!field.values.includes(value)) throw invalid(`must be one of ${field.values.join(', ')}`);
      return eq(column, value);
  }
}

function operatorAllowed(field: ListField, operator: string | undefined): boolean {
  if (field.filter === false) return false;
  if (operator === undefined) return true;
  if (operator === 'match') return field.kind === 'string';
  if (operator === 'le' || operator === 'ge') return field.kind === 'date';
  return false;
}

function parseQuery(
  spec: DefinedListSpec<SelectedFields>,
  query: ListQueryInput,
  paging: ListPaging,
): ParsedQuery {
  const conditions: SQL[] = [];
  const filteredTables = new Set<MySqlTable>();
  const regexes: ParsedQuery['regexes'] = [];
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined || controlKeys.has(key)) continue;
    const [name = '', operator, ...rest] = key.split('__');
    const field = fieldFor(spec, name);
    if (field === undefined || rest.length > 0 || !operatorAllowed(field, operator)) {
      throw new ListQueryError('unknown_parameter', key, value, 'unknown query parameter');
    }
    conditions.push(parseFilter(key, value, field));
    filteredTables.add(field.column.table);
    if (operator === 'match') regexes.push({ key, pattern: value });
  }

  let direction: 'asc' | 'desc' = 'asc';
  if (query.order_by !== undefined) {
    const parsed = orderText.safeParse(query.order_by);
    if (!parsed.success) {
      throw new ListQueryError('invalid_order_by', 'order_by', query.order_by, 'must be asc or desc');
    }
    direction = parsed.data;
  }
  const by = direction === 'asc' ? asc : desc;
  const order: SQL[] = [];
  const sortKey: KeyColumn[] = [];
  let sortTable: MySqlTable | undefined;
  const sortBy = query.sort_by;
  if (sortBy !== undefined) {
    const field = fieldFor(spec, sortBy);
    if (field === undefined || field.sort === false) {
      throw new ListQueryError('unknown_sort_column', 'sort_by', sortBy, `cannot sort by ${sortBy}`);
    }
    order.push(by(field.column));
    sortTable = field.column.table;
    sortKey.push(
      field.kind === 'enum'
        ? { column: field.column, kind: 'enum', enumValues: field.values }
        : { column: field.column, kind: field.kind },
    );
  }
  order.push(...spec.tiebreak.map((column) => by(column)));
  for (const column of spec.tiebreak) {
    sortKey.push({ column, kind: column.dataType === 'number' ? 'number' : 'string' });
  }
  const cursor = parseCursor(query, sortBy ?? null, direction, sortKey);

  const page = parsePositive('page', query.page, 1, 'invalid_page');
  const requested = parsePositive(
    'page_size',
    query.page_size,
    paging.default_page_size,
    'invalid_page_size',
  );
  const pageSize = Math.min(requested, paging.max_page_size);
  if (!Number.isSafeInteger((page - 1) * pageSize)) {
    throw new ListQueryError('invalid_page', 'page', String(page), 'page is out of range');
  }
  return {
    conditions,
    filteredTables,
    sortTable,
    regexes,
    order,
    sortKey,
    sortBy: sortBy ?? null,
    direction,
    cursor,
    page: cursor?.page ?? page,
    pageSize,
  };
}

function parseCursor(
  query: ListQueryInput,
  sortBy: string | null,
  direction: 'asc' | 'desc',
  sortKey: readonly KeyColumn[],
): CursorState | undefined {
  const text = query.cursor;
  if (text === undefined) return undefined;
  const refuse = (reason: string) => new ListQueryError('invalid_value', 'cursor', text, reason);
  if (query.page !== undefined) throw refuse('cursor and page exclude each other: send one');
  const state = decodeCursor(text);
  if (typeof state === 'string') throw refuse(state);
  if (state.sortBy !== sortBy || state.order !== direction) {
    throw refuse(
      `made for sort_by=${state.sortBy ?? '(none)'} and order_by=${state.order}: send the same sort_by and order_by`,
    );
  }
  if (
    state.key.length !== sortKey.length ||
    !sortKey.every((key, i) => keyValueFits(key, state.key[i] ?? null))
  ) {
    throw refuse('not a cursor of this list');
  }
  return state;
}

function parsePositive(
  key: string,
  text: string | undefined,
  fallback: number,
  code: ListQueryErrorCode,
): number {
  if (text === undefined) return fallback;
  const parsed = positiveInteger.safeParse(text);
  if (!parsed.success) throw new ListQueryError(code, key, text, 'must be an integer >= 1');
  return parsed.data;
}

// Patterns the server already accepted: a dashboard repeats its pattern on every refresh, and
// the check is a round trip of its own. Bounded; the oldest is forgotten first.
const validPatterns = new Set<string>();
const MAX_VALID_PATTERNS = 1000;

/** Lets the server judge each pattern (its regex dialect is PCRE, not JavaScript's). */
async function checkRegexes(db: Database, regexes: ParsedQuery['regexes']): Promise<void> {
  for (const { key, pattern } of regexes) {
    if (validPatterns.has(pattern)) continue;
    try {
      // As it will run: a pattern that only fails behind the prefix ((*VERB)s) fails here.
      await db.execute(sql`SELECT '' REGEXP ${serverPattern(pattern)}`);
      validPatterns.add(pattern);
      if (validPatterns.size > MAX_VALID_PATTERNS) {
        const oldest = validPatterns.values().next().value;
        if (oldest !== undefined) validPatterns.delete(oldest);
      }
    } catch (err) {
      if (mysqlErrorNumber(err) !== mysqlErrno.regexpError) throw err;
      const reason = err instanceof Error && err.cause instanceof Error ? err.cause.message : 'invalid regex';
      throw new ListQueryError('invalid_regex', key, pattern, reason);
    }
  }
}

// Dynamic-mode select with the joins applied; typed loosely on purpose: the page's item type
// comes from the spec's selection, which is what the builder selects.
interface DynamicSelect {
  innerJoin(table: MySqlTable | Subquery, on: SQL): DynamicSelect;
  leftJoin(table: MySqlTable, on: SQL): DynamicSelect;
  where(where: SQL | undefined): DynamicSelect;
  orderBy(...columns: SQL[]): DynamicSelect;
  limit(limit: number): DynamicSelect;
  offset(offset: number): DynamicSelect;
  /** A derived table; its fields are the selected ones, by their keys in the selection. */
  as(alias: string): Subquery & Record<string, MySqlColumn>;
  then: Promise<unknown[]>['then'];
}

function selectFrom(
  db: Database,
  fields: SelectedFields,
  spec: ListSpec<SelectedFields>,
  joins: readonly ListJoin[] = spec.joins ?? [],
): DynamicSelect {
  let query = db.select(fields).from(spec.from).$dynamic() as unknown as DynamicSelect;
  for (const join of joins) {
    query =
      join.type === 'inner' ? query.innerJoin(join.table, join.on) : query.leftJoin(join.table, join.on);
  }
  return query;
}

// Deep page numbers seek from the key of every BOUNDARY_STEP-th row: OFFSET then skips at
// most BOUNDARY_STEP - 1 index entries (~0.5 ms) however deep the page is.
const BOUNDARY_STEP = 5000;

/** Boundary keys of one filtered, sorted list: keys[i] is the key of row (i + 1) * STEP - 1. */
class Boundaries {
  readonly keys: KeyValue[][] = [];
  end = false;
  #chain: Promise<void> = Promise.resolve();

  /** Computes keys up to `count` (fewer at the end of the list), one statement per boundary. */
  upTo(count: number, next: (after: KeyValue[] | undefined) => Promise<KeyValue[] | undefined>) {
    const run = this.#chain.then(async () => {
      while (this.keys.length < count && !this.end) {
        const key = await next(this.keys.at(-1));
        if (key === undefined) this.end = true;
        else this.keys.push(key);
      }
    });
    // A failed step is the caller's error; the next caller starts from the keys computed so far.
    this.#chain = run.catch(() => undefined);
    return run;
  }
}

interface ListCaches {
  totals: TtlCache<number>;
  boundaries: TtlCache<Boundaries>;
  /** Pattern-free counts of a process at once (see COUNT_TIMEOUT_FACTOR). */
  countSlots: ConcurrencySlots;
}

// A COUNT without a pattern reads an index range, linear in the rows it counts (~100 ms for
// 1,000,000 tasks): it gets this many times the statement limit, so a big table's total is not
// refused, and at most COUNT_SLOTS run at once, so varied filters cannot tie up the pool.
// Counts with a `__match` pattern keep the plain limit: their cost is the pattern's.
const COUNT_TIMEOUT_FACTOR = 4;
const COUNT_SLOTS = 2;

const cachesByPool = new WeakMap<object, ListCaches>();
const specIds = new WeakMap<object, number>();
let lastSpecId = 0;

function cachesOf(db: Database): ListCaches {
  const pool = (db as unknown as { $client: object }).$client;
  let caches = cachesByPool.get(pool);
  if (caches === undefined) {
    caches = {
      totals: new TtlCache(2000),
      boundaries: new TtlCache(200),
      countSlots: new ConcurrencySlots(COUNT_SLOTS),
    };
    cachesByPool.set(pool, caches);
  }
  return caches;
}

function specId(spec: object): number {
  let id = specIds.get(spec);
  if (id === undefined) {
    lastSpecId += 1;
    id = lastSpecId;
    specIds.set(spec, id);
  }
  return id;
}

/** A cache key naming one statement exactly: its text and parameters. */
function statementKey(spec: object, query: { toSQL(): { sql: string; params: unknown[] } }): string {
  const { sql: text, params } = query.toSQL();
  return `${specId(spec)}\n${text}\n${JSON.stringify(params)}`;
}

const keyAlias = (i: number) => `__key_${i}`;

function keyOfRow(row: Record<string, unknown>, sortKey: readonly KeyColumn[]): KeyValue[] {
  return sortKey.map((_, i) => (row[keyAlias(i)] ?? null) as KeyValue);
}

/** Clears every cached total and boundary of `db` (tests; an admin action that must show at once). */
export function forgetListCaches(db: Database): void {
  const caches = cachesOf(db);
  caches.totals.clear();
  caches.boundaries.clear();
}

/**
 * One page of `spec`'s rows filtered and sorted by `query` (the request's query string),
 * within `where` (fixed conditions such as the server id from the route).
 */
export async function listPage<TSelection extends SelectedFields>(
  db: Database,
  spec: DefinedListSpec<TSelection>,
  query: ListQueryInput,
  paging: ListPaging,
  where: readonly SQL[] = [],
): Promise<ListPage<SelectResultFields<TSelection>>> {
  // Items keep the spec's selection only (not the sort key aliases), built key by key: copying
  // a row and deleting from it turns every item into a slow dictionary object (500 rows: ~2 ms).
  const selected = Object.keys(spec.select);
  const shape: RowShape<SelectResultFields<TSelection>> = {
    fields: spec.select,
    item: (row) => {
      const item: Record<string, unknown> = {};
      for (const key of selected) item[key] = row[key];
      return item as SelectResultFields<TSelection>;
    },
  };
  return readLimited(db, spec, query, paging, where, shape);
}

/**
 * listPage with each item as JSON text built by the server (db/jsonItems.ts): `fields` are the
 * item's keys in order, the spec's columns or SQL expressions. What the API answers with: a
 * 500-row page no longer costs its one thread a decode, a mapping and a stringify per field.
 */
export async function listPageJson<TSelection extends SelectedFields>(
  db: Database,
  spec: DefinedListSpec<TSelection>,
  query: ListQueryInput,
  paging: ListPaging,
  where: readonly SQL[] = [],
  fields: JsonItemFields = selectionColumns(spec.select),
): Promise<ListPage<string>> {
  let shape = jsonShapes.get(fields);
  if (shape === undefined) {
    shape = { fields: { [JSON_ITEM]: jsonObjectOf(fields) }, item: (row) => row[JSON_ITEM] as string };
    jsonShapes.set(fields, shape);
  }
  return readLimited(db, spec, query, paging, where, shape);
}

const JSON_ITEM = '__item';
// Built once per field set (the callers' are module constants), not on every request.
const jsonShapes = new WeakMap<JsonItemFields, RowShape<string>>();

/** What the rows statement selects besides the sort key, and the item made of each row. */
interface RowShape<T> {
  fields: SelectedFields;
  item(row: Record<string, unknown>): T;
}

async function readLimited<T>(
  db: Database,
  spec: DefinedListSpec<SelectedFields>,
  query: ListQueryInput,
  paging: ListPaging,
  where: readonly SQL[],
  shape: RowShape<T>,
): Promise<ListPage<T>> {
  const parsed = parseQuery(spec, query, paging);
  const timeoutMs = paging.list_statement_timeout_ms ?? LIST_DEFAULTS.list_statement_timeout_ms;
  const limited = (ms: number) =>
    withStatementLimit(db as Parameters<typeof withStatementLimit>[0], ms) as unknown as Database;
  const limitedDb = limited(timeoutMs);
  const countDb = parsed.regexes.length > 0 ? limitedDb : limited(timeoutMs * COUNT_TIMEOUT_FACTOR);
  try {
    await checkRegexes(limitedDb, parsed.regexes);
    return await readPage(limitedDb, countDb, spec, parsed, paging, where, shape);
  } catch (err) {
    if (mysqlErrorNumber(err) !== mysqlErrno.statementTimeout) throw err;
    const [regex] = parsed.regexes;
    if (regex === undefined) throw new ListStatementTimeoutError(timeoutMs);
    throw new ListQueryError(
      'invalid_regex',
      regex.key,
      regex.pattern,
      `the pattern took longer than ${timeoutMs} ms to evaluate: simplify it or anchor a literal prefix (^name)`,
    );
  }
}

async function readPage<T>(
  db: Database,
  countDb: Database,
  spec: DefinedListSpec<SelectedFields>,
  parsed: ParsedQuery,
  paging: ListPaging,
  where: readonly SQL[],
  shape: RowShape<T>,
): Promise<ListPage<T>> {
  const ttlMs = (paging.total_cache_seconds ?? LIST_DEFAULTS.total_cache_seconds) * 1000;
  const caches = cachesOf(db);
  const condition = and(...where, ...parsed.conditions);
  const joinsFor = (tables: readonly (MySqlTable | undefined)[]) =>
    (spec.joins ?? []).filter((j) => !j.exactlyOne || tables.includes(j.table));
  const filtered = [...parsed.filteredTables];
  const keyJoins = joinsFor([...filtered, parsed.sortTable]);
  const tiebreakFields = Object.fromEntries(spec.tiebreak.map((column) => [column.name, column]));
  // Aliased: sort_by=id and the tiebreak id are the same column, and a derived table's
  // columns need distinct names. mapWith keeps the column's decoding (dates).
  const sortKeyFields = Object.fromEntries(
    parsed.sortKey.map((key, i) => [keyAlias(i), sql`${key.column}`.mapWith(key.column).as(keyAlias(i))]),
  );
  const keysQuery = (seek: SQL | undefined, fields: SelectedFields = tiebreakFields) =>
    selectFrom(db, fields, spec, keyJoins)
      .where(and(condition, seek))
      .orderBy(...parsed.order);

  let seek: SQL | undefined;
  let offset = (parsed.page - 1) * parsed.pageSize;
  if (parsed.cursor !== undefined) {
    seek = afterKey(parsed.sortKey, parsed.cursor.key, parsed.direction);
    offset = 0;
  } else if (offset >= BOUNDARY_STEP && ttlMs > 0) {
    // Deep page numbers: seek from the nearest boundary key below the offset.
    const wanted = Math.floor(offset / BOUNDARY_STEP);
    const nextBoundary = async (after: KeyValue[] | undefined) => {
      const from = after === undefined ? undefined : afterKey(parsed.sortKey, after, parsed.direction);
      const [row] = (await keysQuery(from, sortKeyFields)
        .limit(1)
        .offset(BOUNDARY_STEP - 1)) as Record<string, unknown>[];
      return row === undefined ? undefined : keyOfRow(row, parsed.sortKey);
    };
    const cacheKey = statementKey(spec, keysQuery(undefined, sortKeyFields) as never);
    const { value: boundaries } = await caches.boundaries.get(cacheKey, ttlMs, async () => {
      const fresh = new Boundaries();
      await fresh.upTo(wanted, nextBoundary);
      return fresh;
    });
    await boundaries.upTo(wanted, nextBoundary);
    const usable = Math.min(wanted, boundaries.keys.length);
    const from = boundaries.keys[usable - 1];
    if (from !== undefined) {
      seek = afterKey(parsed.sortKey, from, parsed.direction);
      offset -= usable * BOUNDARY_STEP;
    }
  }

  // The page's keys first, then their rows (a "deferred join"): OFFSET then skips index
  // entries instead of whole rows, and the keys query leaves out the joins it does not need,
  // so the optimizer cannot start from a joined table and sort everything (the last page of
  // 10,000 server repos: ~27 ms -> ~2 ms). One row more than the page says whether a next
  // page exists. The rows query repeats the conditions: a one-to-many join then still yields
  // one row per key.
  const keys = keysQuery(seek, sortKeyFields)
    .limit(parsed.pageSize + 1)
    .offset(offset)
    .as('page_keys');
  const aliases = Object.keys(sortKeyFields);
  const keyField = (alias: string) => keys[alias] as MySqlColumn;
  const firstTiebreak = parsed.sortKey.length - spec.tiebreak.length;
  const by = parsed.direction === 'asc' ? asc : desc;
  const countQuery = selectFrom(countDb, { total: count() }, spec, joinsFor(filtered)).where(condition);
  const countRows = () =>
    caches.countSlots.run(async () =>
      Number((((await countQuery) as { total?: number }[])[0]?.total ?? 0) as number),
    );
  const [rows, counted] = await Promise.all([
    // Ordered by the keys' own columns: MariaDB sorts the page's few keys before the join.
    // Ordered by the joined table's columns it would sort the joined rows in a temporary table,
    // on disk for the tasks' JSON columns (~3-5 ms a page).
    selectFrom(db, { ...shape.fields, ...Object.fromEntries(aliases.map((a) => [a, keyField(a)])) }, spec)
      .innerJoin(
        keys,
        and(...spec.tiebreak.map((column, j) => eq(column, keyField(keyAlias(firstTiebreak + j))))) as SQL,
      )
      .where(condition)
      .orderBy(...aliases.map((a) => by(keyField(a)))) as unknown as Promise<Record<string, unknown>[]>,
    ttlMs > 0
      ? caches.totals.get(statementKey(spec, countQuery as never), ttlMs, countRows)
      : countRows().then((value) => ({ value, at: Date.now() })),
  ]);
  const hasNext = rows.length > parsed.pageSize;
  const pageRows = hasNext ? rows.slice(0, parsed.pageSize) : rows;
  const last = pageRows.at(-1);
  const next =
    hasNext && last !== undefined
      ? encodeCursor({
          sortBy: parsed.sortBy,
          order: parsed.direction,
          key: keyOfRow(last, parsed.sortKey),
          page: parsed.page + 1,
        })
      : null;
  return {
    items: pageRows.map(shape.item),
    page: parsed.page,
    page_size: parsed.pageSize,
    total: counted.value,
    total_as_of: new Date(counted.at).toISOString(),
    next,
  };
}
