import type { z } from 'zod';
import type { ConfigIssue } from './errors.js';

function joinPath(path: ReadonlyArray<PropertyKey>): string {
  return path.map(String).join('.');
}

/** Turns zod issues into file/key/reason issues; an unknown key gets one issue naming it. */
export function toConfigIssues(file: string, error: z.ZodError): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  for (const issue of error.issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        issues.push({ file, path: joinPath([...issue.path, key]), message: 'unknown key' });
      }
    } else if (issue.code === 'invalid_key') {
      const reason = issue.issues.map((i) => i.message).join('; ');
      issues.push({ file, path: joinPath(issue.path), message: `invalid key: ${reason}` });
    } else {
      issues.push({ file, path: joinPath(issue.path), message: issue.message });
    }
  }
  return issues;
}
