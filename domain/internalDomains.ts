/** True when the URL's host is one of the internal domains or a host under one of them. */
export function isInternalUrl(url: string, internalDomains: readonly string[]): boolean {
  let host: string;
  try {
    host = new URL(url).hostname.toLowerCase();
  } catch {
    return false;
  }
  return internalDomains.some((d) => {
    const domain = d.toLowerCase().replace(/^\./, '');
    return host === domain || host.endsWith(`.${domain}`);
  });
}
