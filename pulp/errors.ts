/** Errors from talking to a Pulp server. Each carries a stable code for retry decisions and the API. */

export class PulpApiError extends Error {
  readonly code = 'PULP_API_ERROR';
  constructor(
    readonly status: number,
    readonly url: string,
    readonly body: unknown,
  ) {
    super(`Pulp answered ${status} for ${url}: ${summarize(body)}`);
    this.name = 'PulpApiError';
  }

  /** 4xx other than 408/429 mean the request itself is wrong: retrying cannot help. */
  get retryable(): boolean {
    return this.status >= 500 || this.status === 408 || this.status === 429;
  }
}

export class PulpConnectionError extends Error {
  readonly code = 'PULP_CONNECTION_ERROR';
  constructor(
    readonly method: string,
    readonly url: string,
    cause: unknown,
  ) {
    super(`cannot reach Pulp (${method} ${url}): ${(cause as Error)?.message ?? String(cause)}`, { cause });
    this.name = 'PulpConnectionError';
  }
}

export interface PulpTaskError {
  description?: string;
  traceback?: string;
  [key: string]: unknown;
}

/** pulpcore's error on the tasks of a worker that died ("Worker <name> has gone missing."). */
export function isWorkerVanished(error: PulpTaskError | null | undefined): boolean {
  return /worker .*(has )?gone missing/i.test(error?.description ?? '');
}

export class PulpTaskFailedError extends Error {
  readonly code = 'PULP_TASK_FAILED';
  constructor(
    readonly taskHref: string,
    readonly state: string,
    readonly pulpError: PulpTaskError | null | undefined,
  ) {
    super(
      `Pulp task ${taskHref} ended ${state}${pulpError?.description ? `: ${pulpError.description}` : ''}`,
    );
    this.name = 'PulpTaskFailedError';
  }

  /** Pulp fails the tasks of a worker that died; the work itself may well succeed when retried. */
  get workerVanished(): boolean {
    return isWorkerVanished(this.pulpError);
  }
}

function summarize(body: unknown): string {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  return text === undefined ? '(no body)' : text.length > 500 ? `${text.slice(0, 500)}…` : text;
}
