import { EqualityFilter } from 'ldapts';

/** A login as typed: `DOMAIN\user` or `user`. */
export interface LoginName {
  domain?: string;
  name: string;
}

export function splitLogin(login: string): LoginName {
  const at = login.indexOf('\\');
  return at === -1 ? { name: login } : { domain: login.slice(0, at), name: login.slice(at + 1) };
}

/** RFC 4514 escaping of an attribute value placed into a DN. */
export function escapeDnValue(value: string): string {
  return value
    .replace(/[\\"+,;<>=]/g, (ch) => `\\${ch}`)
    .replace(/\0/g, '\\00')
    .replace(/^([ #])/, '\\$1')
    .replace(/ $/, '\\ ');
}

export interface BindSettings {
  default_domain?: string;
  bind_dn_template?: string;
}

/**
 * The name to bind as: the DN from bind_dn_template when one is configured (directories that
 * are not Active Directory), else `DOMAIN\user` as Active Directory wants it, with the
 * default domain when the login names none.
 */
export function bindName(login: LoginName, settings: BindSettings): string {
  if (settings.bind_dn_template) {
    return settings.bind_dn_template.replaceAll('{username}', escapeDnValue(login.name));
  }
  const domain = login.domain ?? settings.default_domain;
  return domain ? `${domain}\\${login.name}` : login.name;
}

/**
 * `(<attribute>=<name>)` as a filter object: ldapts encodes the value as a literal, so `*`,
 * `(`, `)` and `\` in a login can never widen the search (RFC 4515 escaping in its string form).
 */
export function userSearchFilter(attribute: string, name: string): EqualityFilter {
  return new EqualityFilter({ attribute, value: name });
}

/** Group names (the CN of each memberOf DN), in directory order, without duplicates. */
export function groupNamesFromMemberOf(memberOf: unknown): string[] {
  const values = Array.isArray(memberOf) ? memberOf : memberOf === undefined ? [] : [memberOf];
  const names: string[] = [];
  for (const value of values) {
    const dn = Buffer.isBuffer(value) ? value.toString('utf8') : String(value);
    const m = /^\s*cn\s*=\s*((?:\\.|[^,+])+)/i.exec(dn);
    const name = m?.[1]?.replace(/\\(.)/g, '$1').trim();
    if (name && !names.includes(name)) names.push(name);
  }
  return names;
}
