export interface PulpPage<T> {
  results: T[];
  next?: string | null;
}

/**
 * Reads every page of a Pulp list (limit/offset, default page 100). Walks while Pulp says there
 * is a `next` page, computing the offset itself rather than requesting the `next` URL, whose
 * host and scheme are wrong behind some proxies.
 */
export async function listAll<T>(
  fetchPage: (page: { limit: number; offset: number }) => Promise<PulpPage<T>>,
  pageSize = 100,
): Promise<T[]> {
  const all: T[] = [];
  for (let offset = 0; ; ) {
    const page = await fetchPage({ limit: pageSize, offset });
    all.push(...page.results);
    if (!page.next || page.results.length === 0) return all;
    offset += page.results.length;
  }
}
