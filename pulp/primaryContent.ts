/**
 * Reading a primary's published content the way a secondary's remote will: through the
 * primary's content app (http(s)://<primary>/pulp/content/<base_path>/), its PyPI API or its
 * registry.
 */

export function contentUrl(primary: string, basePath: string, https: boolean): string {
  return `${https ? 'https' : 'http'}://${primary}/pulp/content/${basePath.replace(/^\/+|\/+$/g, '')}/`;
}

/**
 * A python repository as its primary serves it to pip and to a secondary's python remote: the
 * primary's PyPI API (simple and JSON) at /pypi/<base_path>/, which serves the repository's
 * latest version whether or not it was published.
 */
export function pypiUrl(primary: string, basePath: string, https: boolean): string {
  return `${https ? 'https' : 'http'}://${primary}/pypi/${basePath.replace(/^\/+|\/+$/g, '')}/`;
}

/**
 * The primary's OCI registry (/v2/ on the API origin): a secondary's container remote points at
 * it, with the primary distribution's base path as the upstream_name.
 */
export function registryUrl(primary: string, https: boolean): string {
  return `${https ? 'https' : 'http'}://${primary}`;
}

async function fetchText(url: string): Promise<string | undefined> {
  const res = await fetch(url, { signal: AbortSignal.timeout(60_000) });
  if (res.status === 404) return undefined;
  if (!res.ok) throw new Error(`GET ${url} answered ${res.status}`);
  return res.text();
}

/** Sub-folders named in a content-app directory listing. */
function listedFolders(html: string): string[] {
  const names = new Set<string>();
  for (const m of html.matchAll(/href="([^"?#/][^"?#]*\/)"/g)) {
    // The content app writes relative links, sometimes as "./name/".
    const name = decodeURIComponent(m[1] ?? '').replace(/^\.\//, '');
    if (name && !name.startsWith('.') && !name.includes('://')) names.add(name.replace(/\/$/, ''));
  }
  return [...names];
}

function releaseField(release: string, field: string): string[] {
  const m = new RegExp(`^${field}:(.*)$`, 'm').exec(release);
  return m?.[1]?.trim().split(/\s+/).filter(Boolean) ?? [];
}

export interface DebLayout {
  distributions: string[];
  components: string[];
  architectures: string[];
}

/**
 * The deb distributions a published repository offers: the folders under dists/ (two levels
 * deep, e.g. bookworm/updates) that hold a Release file, with the union of their components
 * and architectures.
 */
export async function discoverDebLayout(baseUrl: string): Promise<DebLayout> {
  const layout: DebLayout = { distributions: [], components: [], architectures: [] };
  const distsUrl = `${baseUrl}dists/`;
  const top = await fetchText(distsUrl);
  if (top === undefined) return layout;
  const candidates: string[] = [];
  for (const name of listedFolders(top)) {
    candidates.push(name);
    const sub = await fetchText(`${distsUrl}${name}/`);
    if (sub) for (const child of listedFolders(sub)) candidates.push(`${name}/${child}`);
  }
  const components = new Set<string>();
  const architectures = new Set<string>();
  for (const dist of candidates) {
    const release = await fetchText(`${distsUrl}${dist}/Release`);
    if (release === undefined) continue;
    layout.distributions.push(dist);
    for (const c of releaseField(release, 'Components')) components.add(c);
    for (const a of releaseField(release, 'Architectures')) architectures.add(a);
  }
  layout.distributions.sort();
  layout.components = [...components].sort();
  layout.architectures = [...architectures].sort();
  return layout;
}
