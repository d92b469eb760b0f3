import { z } from '@hono/zod-openapi';
import type { ListField } from '../../db/listQuery.js';
import { filterParams, pagingParams } from './listParams.js';

export const ErrorSchema = z
  .object({
    detail: z.string().openapi({ example: 'Pulp server not found' }),
    field: z
      .string()
      .optional()
      .openapi({ description: 'The request field at fault, e.g. body.max_runtime' }),
  })
  .openapi('Error');

const errorDescriptions = {
  400: 'Bad request: a body that is not well-formed JSON, or a value the original refused with 400',
  401: 'Missing, invalid or expired Bearer token',
  403: 'The caller is not in an admin group',
  404: 'Not found',
  409: 'Conflict with the current state',
  413: 'Request body larger than 1 MiB',
  415: 'The body is not sent as application/json',
  422: 'Invalid input; `field` names it',
  429: 'Too many failed logins; try again after Retry-After seconds',
  502: 'Pulp answered with an error',
  503: 'A dependency (database, Temporal, LDAP, Pulp) is unreachable',
} as const;

type ErrorStatus = keyof typeof errorDescriptions;

/** Documented error answers of a route, all `{detail}`. */
export function errorResponses<S extends ErrorStatus>(...statuses: S[]) {
  return Object.fromEntries(
    statuses.map((s) => [
      s,
      { description: errorDescriptions[s], content: { 'application/json': { schema: ErrorSchema } } },
    ]),
  ) as unknown as Record<
    S,
    { description: string; content: { 'application/json': { schema: typeof ErrorSchema } } }
  >;
}

/** What any route with a JSON body may answer about the body itself, besides its 422s. */
export const bodyErrorResponses = () => errorResponses(400, 413, 415, 422);

export function jsonContent<T extends z.ZodType>(schema: T, description: string) {
  return { description, content: { 'application/json': { schema } } };
}

export function jsonBody<T extends z.ZodType>(schema: T) {
  return { required: true, content: { 'application/json': { schema } } };
}

export function pageOf<T extends z.ZodType>(item: T, name: string) {
  return z
    .object({
      items: z.array(item),
      page: z.number().int(),
      page_size: z.number().int(),
      total: z.number().int().openapi({
        description:
          'Items matching the filters, counted at total_as_of: a count is reused for [paging] total_cache_seconds (default 5), so it may lag recent writes by that much',
      }),
      // Every database list has both; /v1/schedules (Temporal's schedules) has neither.
      total_as_of: z
        .string()
        .optional()
        .openapi({ format: 'date-time', description: 'When `total` was counted' }),
      next: z.string().nullable().optional().openapi({
        description: 'Pass as `cursor` for the next page (keyset pagination); null on the last page',
      }),
    })
    .openapi(name);
}

const MAX_ID = 4294967295; // INT UNSIGNED

/** A numeric id in the path; anything else is a 422 naming the parameter. */
export const pathId = (name: string) =>
  z.coerce
    .number()
    .int()
    .min(1)
    .max(MAX_ID)
    .openapi({ param: { name, in: 'path' }, example: 1 });

export const ServerIdParams = z.object({ id: pathId('id') });
export const ServerRepoParams = z.object({ id: pathId('id'), repo_id: pathId('repo_id') });

export const isoDateTime = z.string().openapi({ format: 'date-time', example: '2024-05-01T10:00:00.000Z' });

/**
 * The query parameters a list endpoint accepts, generated from its list spec so the document
 * and the query layer never disagree: typed as db/listQuery.ts parses them (api/schemas/listParams.ts).
 */
export function listQuerySchema(spec: { fields: Readonly<Record<string, ListField>> }) {
  let shape: Record<string, z.ZodType> = {};
  const sortable: string[] = [];
  for (const [name, field] of Object.entries(spec.fields)) {
    if (field.sort !== false) sortable.push(name);
    shape = { ...shape, ...filterParams(name, field) };
  }
  return z.object({
    ...shape,
    ...pagingParams(sortable),
    cursor: z.string().optional().openapi({
      description:
        'the `next` of the previous answer: the following page, by an index seek (not with `page`; same sort_by and order_by)',
    }),
  });
}

const parameterNames = new WeakMap<object, ReadonlySet<string>>();

/** Every query parameter listQuerySchema documents for this spec. */
export function listQueryParameters(spec: {
  fields: Readonly<Record<string, ListField>>;
}): ReadonlySet<string> {
  let names = parameterNames.get(spec);
  if (names === undefined) {
    names = new Set(Object.keys(listQuerySchema(spec).shape));
    parameterNames.set(spec, names);
  }
  return names;
}

/** A row as JSON: dates become ISO 8601 text. */
export type JsonDates<T> = {
  [K in keyof T]: T[K] extends Date ? string : T[K] extends Date | null ? string | null : T[K];
};

export function withIsoDates<T extends object>(row: T): JsonDates<T> {
  const out: Record<string, unknown> = {};
  // for...in over an own-keys row: no [key, value] array per field (500-row pages).
  for (const key in row) {
    const value: unknown = row[key];
    out[key] = value instanceof Date ? value.toISOString() : value;
  }
  return out as JsonDates<T>;
}
