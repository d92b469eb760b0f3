// A path the API serves, asked with a method it does not serve, is a 405 with an Allow header
// (RFC 9110), as FastAPI answered the original's clients, not a 404 that says the resource is
// not there.

/** The routes of a Hono app: its `routes` (middleware is registered under the method ALL). */
type RouteList = readonly { method: string; path: string }[];

/** `/v1/tasks/:id` → a regex for the path, trailing slash optional (the app is not strict). */
function pathPattern(path: string): RegExp {
  const source = path
    .split('/')
    .map((part) => {
      if (part === '*') return '.*';
      if (part.startsWith(':')) return '[^/]+';
      return part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    })
    .join('/');
  return new RegExp(`^${source.replace(/\/$/, '')}/?$`);
}

/** Answers which methods the app serves for a request path (none: the path is unknown). */
export function allowedMethods(routes: RouteList): (path: string) => string[] {
  const byPattern = new Map<string, { pattern: RegExp; params: number; methods: Set<string> }>();
  for (const { method, path } of routes) {
    if (method === 'ALL') continue;
    let entry = byPattern.get(path);
    if (entry === undefined) {
      const params = path.split('/').filter((part) => part.startsWith(':') || part === '*').length;
      entry = { pattern: pathPattern(path), params, methods: new Set() };
      byPattern.set(path, entry);
    }
    entry.methods.add(method.toUpperCase());
  }
  // The most specific routes answer: /v1/tasks/task_states is that path's GET, not also the
  // PATCH of /v1/tasks/{id} (which would refuse the id), as the OpenAPI document lists them.
  return (path) => {
    const matching = [...byPattern.values()].filter(({ pattern }) => pattern.test(path));
    const fewest = Math.min(...matching.map((m) => m.params));
    const methods = new Set(matching.filter((m) => m.params === fewest).flatMap((m) => [...m.methods]));
    return [...methods].sort();
  };
}
