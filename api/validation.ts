import type { Context } from 'hono';
import type { ZodError } from 'zod';

const targetNames: Record<string, string> = { json: 'body', query: 'query', param: 'path', header: 'header' };

/** `body.max_concurrent_syncs: Too small: expected number to be >=1` for each issue. */
export function describeIssues(target: string, error: ZodError): { detail: string; field: string } {
  const prefix = targetNames[target] ?? target;
  const issues = error.issues.map((issue) => {
    // An unknown field is named by the issue's keys, not its path (the object holding it).
    const extra = issue.code === 'unrecognized_keys' ? issue.keys.slice(0, 1) : [];
    const field = [prefix, ...issue.path.map(String), ...extra].join('.');
    return { field, text: `${field}: ${issue.message}` };
  });
  return { detail: issues.map((i) => i.text).join('; '), field: issues[0]?.field ?? prefix };
}

/** The defaultHook of the app: every request that fails its zod schema is a 422 `{detail, field}`. */
export function validationHook(
  result: { target: string } & ({ success: true } | { success: false; error: ZodError }),
  c: Context,
): Response | undefined {
  if (result.success) return undefined;
  return c.json(describeIssues(result.target, result.error), 422);
}
