/** Returns why a regex does not compile, or undefined. Regexes are compiled once at load time. */
export function regexProblem(source: string): string | undefined {
  try {
    new RegExp(source);
    return undefined;
  } catch (err) {
    return `invalid regex "${source}": ${(err as Error).message}`;
  }
}
