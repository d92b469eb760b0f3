// The typed query parameters of the list endpoints. db/listQuery.ts is what parses a request;
// these schemas accept exactly what it accepts, so that the OpenAPI document generated from
// them is exact: a schema-driven client (schemathesis) that sends a value the document allows
// gets an answer, and a value it does not allow gets a 422. zod checks here first (the 422
// names the parameter), then listQuery parses the same text.
import { z } from '@hono/zod-openapi';
import { BOOLEAN_TEXTS, type ListField, MAX_MATCH_PATTERN_LENGTH, parseIsoDate } from '../../db/listQuery.js';

/** listQuery reads at most 15 digits for an integer (page, page_size, number filters). */
export const MAX_QUERY_INTEGER = 999_999_999_999_999;
/**
 * Pages beyond this are refused: (page - 1) * max_page_size must stay a safe integer for the
 * OFFSET, and no list of this API has a billion pages.
 */
export const MAX_PAGE = 1_000_000_000;

// The spellings of a boolean that listQuery takes, in any case. Written without (?i): an
// OpenAPI pattern is an ECMA-262 regex read by other tools, which have no inline flags.
const anyCase = (text: string) =>
  [...text].map((c) => (c.toLowerCase() === c.toUpperCase() ? c : `[${c.toUpperCase()}${c}]`)).join('');
const BOOLEAN_PATTERN = `^(?:${[...BOOLEAN_TEXTS.true, ...BOOLEAN_TEXTS.false].map(anyCase).join('|')})$`;

const booleanParam = () =>
  z
    .string()
    .regex(new RegExp(BOOLEAN_PATTERN), 'not a boolean (true, false, 1, 0, yes, no, on, off, t, f, y, n)')
    .optional()
    .openapi({
      description: 'exact match: true, false, 1, 0, yes, no, on, off, t, f, y or n, in any case',
      example: 'true',
    });

const integerParam = (description: string, min: number, max: number) =>
  z.coerce
    .number({ error: 'not an integer' })
    .int('not an integer')
    .min(min, `must be an integer >= ${min}`)
    .max(max, `must be at most ${max}`)
    .optional()
    // Said again for the document: a coerced number does not carry its bounds into it.
    .openapi({ type: 'integer', minimum: min, maximum: max, description });

const UNIX_TIME_PATTERN = '^\\d{1,14}(?:\\.\\d{1,6})?$';

// What parseIsoDate takes: an ISO 8601 date, a date-time (RFC 3339), or a Unix time in seconds
// (milliseconds above 2e10). It also forgives a space for `T`, a missing offset (UTC) and a
// `+` decoded into a space; the document names the canonical forms.
const dateParam = (description: string) =>
  z
    .string()
    .refine((v) => parseIsoDate(v) !== undefined, 'not an ISO 8601 date or date-time')
    .optional()
    .openapi({
      description: `${description}: an ISO 8601 date (2024-05-01), date-time (2024-05-01T10:00:00Z; without an offset it is UTC) or Unix time in seconds`,
      anyOf: [
        { type: 'string', format: 'date' },
        { type: 'string', format: 'date-time' },
        { type: 'string', pattern: UNIX_TIME_PATTERN },
      ],
      example: '2024-05-01T10:00:00Z',
    });

const text = (description: string) => z.string().optional().openapi({ description });

const regexParam = () =>
  z.string().max(MAX_MATCH_PATTERN_LENGTH).optional().openapi({
    format: 'regex',
    description:
      'regular expression (MariaDB REGEXP, PCRE), case-insensitive; an invalid one is a 422 naming the parameter',
    example: '^ext-',
  });

/** The filters a list field takes, by query parameter name. */
export function filterParams(name: string, field: ListField): Record<string, z.ZodType> {
  if (field.filter === false) return {};
  switch (field.kind) {
    case 'string':
      return { [name]: text('exact match'), [`${name}__match`]: regexParam() };
    case 'enum':
      return {
        [name]: z
          .enum(field.values as [string, ...string[]], { error: `must be one of ${field.values.join(', ')}` })
          .optional()
          .openapi({ description: 'exact match' }),
      };
    case 'number':
      return { [name]: integerParam('exact match', -MAX_QUERY_INTEGER, MAX_QUERY_INTEGER) };
    case 'boolean':
      return { [name]: booleanParam() };
    case 'date':
      return {
        [name]: dateParam('exactly this time'),
        [`${name}__le`]: dateParam('at or before'),
        [`${name}__ge`]: dateParam('at or after'),
      };
  }
}

/** sort_by, order_by, page and page_size of a list with these sortable fields. */
export function pagingParams(sortable: readonly string[]): Record<string, z.ZodType> {
  return {
    sort_by: z
      .enum(sortable as [string, ...string[]], {
        error: `cannot sort by this; one of ${sortable.join(', ')}`,
      })
      .optional()
      .openapi({ description: 'the field to sort by (then by id, in the same order)' }),
    order_by: z
      .enum(['asc', 'desc'], { error: 'must be asc or desc' })
      .optional()
      .openapi({ description: 'asc (default) or desc; also orders by id without sort_by' }),
    page: integerParam('page number, from 1', 1, MAX_PAGE),
    page_size: integerParam(
      'items per page; above [paging] max_page_size it is lowered to it (the answer says what was applied)',
      1,
      MAX_QUERY_INTEGER,
    ),
  };
}
