import { z } from 'zod';
import { cronProblem } from './cron.js';
import { parseMaxRuntime } from './maxRuntime.js';
import { pythonRegexProblem } from './pythonRegex.js';

/** Field types shared by config.ini, pulp_config.yml and the API's request bodies. */

export const cronField = z.string().superRefine((value, ctx) => {
  const problem = cronProblem(value);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

/** A regex written for Python's `re`, as in the original; checked on its translation (config/pythonRegex). */
export const regexField = z.string().superRefine((value, ctx) => {
  const problem = pythonRegexProblem(value);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

/** max_runtime as written (300, "20m", "6h", "1d"), kept as text plus its value in seconds. */
export const maxRuntimeField = z.union([z.string(), z.number()]).transform((value, ctx) => {
  const seconds = parseMaxRuntime(value);
  if (seconds === undefined) {
    ctx.addIssue({
      code: 'custom',
      message: `invalid max_runtime "${value}": use seconds (300) or a number with s, m, h or d (20m, 6h, 1d)`,
    });
    return z.NEVER;
  }
  return { text: String(value), seconds };
});
export type MaxRuntime = z.output<typeof maxRuntimeField>;

/**
 * A Pulp server is named `host[:port]`; the name is also how it is reached. The original
 * allowed letters, digits, `.`, `-` and `_` (container names like pulp_primary); so does this.
 */
export const serverNameField = z
  .string()
  .regex(
    /^[A-Za-z0-9._-]+(:\d{1,5})?$/,
    'server name must be host or host:port (letters, digits, ".", "-", "_")',
  );
