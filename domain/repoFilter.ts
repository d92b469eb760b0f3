import { compilePythonRegex } from '../config/pythonRegex.js';

/** Which repos a group, a snapshot or a removal applies to. Exclude always wins over include. */
export interface RepoFilter {
  regexInclude?: string | null;
  regexExclude?: string | null;
}

/** Compiles once (Python `re` syntax); callers filter many names. Invalid regexes were rejected at the edges. */
export function repoNameMatcher(filter: RepoFilter): (name: string) => boolean {
  const include = filter.regexInclude ? compilePythonRegex(filter.regexInclude) : undefined;
  const exclude = filter.regexExclude ? compilePythonRegex(filter.regexExclude) : undefined;
  return (name) => (include ? include.test(name) : true) && !(exclude?.test(name) ?? false);
}
