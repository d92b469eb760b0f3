// The one place where errors become HTTP answers. Everything below the routes throws errors
// that carry a stable `code`; `httpErrorOf` maps the code to a status and a `{detail}` body.
// Unknown errors become 503 when they are a dependency that cannot be reached (database,
// Temporal), and a 500 naming the request id otherwise.
import { isGrpcServiceError } from '@temporalio/client';
import { HTTPException } from 'hono/http-exception';
import { ListQueryError, type ListQueryErrorCode } from '../db/listQuery.js';

export type ApiErrorCode =
  | 'BAD_REQUEST'
  | 'INVALID_INPUT'
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'LDAP_UNAVAILABLE'
  | 'AUTH_NOT_CONFIGURED';

/** An error the API answers as is: `detail` is safe to show to the client. */
export class ApiError extends Error {
  constructor(
    readonly code: ApiErrorCode,
    readonly detail: string,
    /** The request field at fault (`body.max_runtime`, `query.sort_by`), when there is one. */
    readonly field?: string,
  ) {
    super(detail);
    this.name = 'ApiError';
  }
}

export const notFound = (what: string) => new ApiError('NOT_FOUND', `${what} not found`);
export const invalidInput = (field: string, reason: string) =>
  new ApiError('INVALID_INPUT', `${field}: ${reason}`, field);
export const conflict = (detail: string) => new ApiError('CONFLICT', detail);

const statusByCode: Record<ApiErrorCode | ListQueryErrorCode | ForeignCode, number> = {
  BAD_REQUEST: 400,
  INVALID_INPUT: 422,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  LDAP_UNAVAILABLE: 503,
  AUTH_NOT_CONFIGURED: 503,
  // db/listQuery.ts: a query string the list layer refuses.
  unknown_parameter: 422,
  invalid_value: 422,
  invalid_date: 422,
  invalid_regex: 422,
  unknown_sort_column: 422,
  invalid_order_by: 422,
  invalid_page: 422,
  invalid_page_size: 422,
  // Errors of other packages that reach the API.
  UNKNOWN_PULP_SERVER: 404,
  PULP_API_ERROR: 502,
  PULP_CONNECTION_ERROR: 503,
  DB_NOT_MIGRATED: 503,
  // db/listQuery.ts: a list statement ran past [paging] list_statement_timeout_ms.
  LIST_STATEMENT_TIMEOUT: 503,
};

type ForeignCode =
  | 'UNKNOWN_PULP_SERVER'
  | 'PULP_API_ERROR'
  | 'PULP_CONNECTION_ERROR'
  | 'DB_NOT_MIGRATED'
  | 'LIST_STATEMENT_TIMEOUT';

export interface HttpError {
  status: number;
  body: { detail: string; field?: string };
  /** Whether this is the server's fault (logged with the error) rather than the client's. */
  serverFault: boolean;
  /** Seconds to send as Retry-After, when the error says when to ask again. */
  retryAfterSeconds?: number;
}

// mysql2 connection-level error codes: the database is down or unreachable, not the query wrong.
const databaseDownCodes = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'PROTOCOL_CONNECTION_LOST',
  'ER_CON_COUNT_ERROR',
  'ER_ACCESS_DENIED_ERROR',
  'ER_BAD_DB_ERROR',
  'POOL_CLOSED',
]);

function errorChain(err: unknown): unknown[] {
  const chain: unknown[] = [];
  for (let e = err, depth = 0; e !== undefined && e !== null && depth < 6; depth++) {
    chain.push(e);
    e = (e as { cause?: unknown }).cause;
  }
  return chain;
}

function codeOf(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

// gRPC status codes that mean Temporal could not be reached in time: UNAVAILABLE, DEADLINE_EXCEEDED.
const grpcUnavailable = new Set([14, 4]);

/** Which dependency an unexpected error says is unreachable, if any. */
export function unreachableDependency(err: unknown): 'database' | 'Temporal' | undefined {
  for (const e of errorChain(err)) {
    if (isGrpcServiceError(e) && grpcUnavailable.has(e.code)) return 'Temporal';
    if ((e as { name?: unknown })?.name === 'TransportError') return 'Temporal';
    const code = codeOf(e);
    if (code !== undefined && databaseDownCodes.has(code)) return 'database';
  }
  return undefined;
}

/** The status and body for any error thrown while handling a request. */
export function httpErrorOf(err: unknown, requestId: string): HttpError {
  if (err instanceof ApiError) {
    const status = statusByCode[err.code];
    return {
      status,
      body: err.field ? { detail: err.detail, field: err.field } : { detail: err.detail },
      serverFault: status >= 500,
    };
  }
  if (err instanceof HTTPException) {
    // Hono's own refusals: malformed JSON body (400), unsupported media type (415).
    return {
      status: err.status,
      body: { detail: err.message || 'bad request' },
      serverFault: err.status >= 500,
    };
  }
  const code = codeOf(err);
  if (code !== undefined && Object.hasOwn(statusByCode, code)) {
    const status = statusByCode[code as keyof typeof statusByCode];
    const detail = err instanceof Error ? err.message : String(err);
    const retryAfter = (err as { retryAfterSeconds?: unknown }).retryAfterSeconds;
    return {
      status,
      body: err instanceof ListQueryError ? { detail, field: `query.${err.field}` } : { detail },
      serverFault: status >= 500,
      ...(typeof retryAfter === 'number' ? { retryAfterSeconds: retryAfter } : {}),
    };
  }
  const dependency = unreachableDependency(err);
  if (dependency) {
    return {
      status: 503,
      body: { detail: `${dependency} is unreachable; try again later` },
      serverFault: true,
    };
  }
  return { status: 500, body: { detail: `internal error (request id ${requestId})` }, serverFault: true };
}
