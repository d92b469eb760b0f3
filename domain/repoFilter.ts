/** Which repos a group, a snapshot or a removal applies to. Exclude always wins over include. */
export interface RepoFilter {
  regexInclude?: string | null;
  regexExclude?: string | null;
}

/** Compiles once; callers filter many names. Invalid regexes were rejected at the edges. */
export function repoNameMatcher(filter: RepoFilter): (name: string) => boolean {
  const include = filter.regexInclude ? new RegExp(filter.regexInclude) : undefined;
  const exclude = filter.regexExclude ? new RegExp(filter.regexExclude) : undefined;
  return (name) => (include ? include.test(name) : true) && !(exclude?.test(name) ?? false);
}
