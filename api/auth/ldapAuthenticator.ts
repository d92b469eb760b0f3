import { readFileSync } from 'node:fs';
import { rootCertificates } from 'node:tls';
import {
  Client,
  InappropriateAuthError,
  InvalidCredentialsError,
  InvalidDNSyntaxError,
  NoSuchObjectError,
  ResultCodeError,
  SizeLimitExceededError,
  UnwillingToPerformError,
} from 'ldapts';
import type { IniConfig } from '../../config/iniConfigSchema.js';
import { ApiError } from '../errors.js';
import { bindName, groupNamesFromMemberOf, splitLogin, userSearchFilter } from './ldapNames.js';

export interface LdapUser {
  /** The name as the directory spells it (the search attribute's value), without domain. */
  username: string;
  /** CNs of the groups the user is a member of. */
  groups: string[];
}

/** Checks a login against the directory; the API depends on this, tests may supply another. */
export interface LdapAuthenticator {
  /** Throws ApiError UNAUTHENTICATED for bad credentials, LDAP_UNAVAILABLE when no server answers. */
  authenticate(login: string, password: string): Promise<LdapUser>;
}

export interface LdapAuthenticatorOptions {
  auth: IniConfig['auth'];
  /** [ca] root_ca_file_path: trusted for ldaps:// besides the system CAs. */
  caFile?: string;
  connectTimeoutMs?: number;
  timeoutMs?: number;
  /** Told about each server that could not be used (for logs). */
  onServerError?: (server: string, err: unknown) => void;
}

// Never say which part of a login was wrong.
const badLogin = () => new ApiError('UNAUTHENTICATED', 'invalid username or password');

// Answers that mean "these credentials do not log in", as opposed to "this server is unwell".
const refusedLogin = [
  InvalidCredentialsError,
  InvalidDNSyntaxError,
  NoSuchObjectError,
  ResultCodeError,
  InappropriateAuthError,
  UnwillingToPerformError,
];

export function ldapUrl(server: string, useSsl: boolean): string {
  return /^ldaps?:\/\//i.test(server) ? server : `${useSsl ? 'ldaps' : 'ldap'}://${server}`;
}

/** The user's entry as the directory has it: its own spelling of the name, and its groups. */
export interface DirectoryUser {
  /** The search attribute's value as returned (`ALICE` logs in as `alice` when that is the entry's). */
  name: string;
  groups: string[];
}

function attributeText(value: unknown): string | undefined {
  const first = Array.isArray(value) ? value[0] : value;
  if (first === undefined) return undefined;
  return (Buffer.isBuffer(first) ? first.toString('utf8') : String(first)).trim() || undefined;
}

/** The user's entry, read with the bound connection; exactly one entry must match. */
export async function findUser(
  client: Client,
  baseDn: string,
  searchAttribute: string,
  name: string,
): Promise<DirectoryUser> {
  try {
    const { searchEntries } = await client.search(baseDn, {
      scope: 'sub',
      filter: userSearchFilter(searchAttribute, name),
      attributes: ['memberOf', searchAttribute],
      sizeLimit: 2,
    });
    const entry = searchEntries[0];
    if (searchEntries.length !== 1 || entry === undefined) throw badLogin();
    // ldapts keys attributes as the server names them, which may differ in case from the config.
    const key = Object.keys(entry).find((k) => k.toLowerCase() === searchAttribute.toLowerCase());
    return {
      name: attributeText(key === undefined ? undefined : entry[key]) ?? name,
      groups: groupNamesFromMemberOf(entry.memberOf),
    };
  } catch (err) {
    if (err instanceof SizeLimitExceededError) throw badLogin();
    throw err;
  }
}

/**
 * LDAP login as the original did it: each of `ldap_servers` in turn until one answers, bind as
 * the user, then read its memberOf. A server that cannot be reached is skipped; a server that
 * refuses the credentials ends the attempt (the others share the directory).
 */
export function createLdapAuthenticator(options: LdapAuthenticatorOptions): LdapAuthenticator {
  const { auth } = options;
  // `ca` replaces Node's trust store: keep the system roots next to the configured one.
  const ca = options.caFile ? [...rootCertificates, readFileSync(options.caFile, 'utf8')] : undefined;
  return {
    async authenticate(login, password) {
      if (auth.method !== 'ldap') {
        throw new ApiError('AUTH_NOT_CONFIGURED', `logins are off: [auth] method=${auth.method}`);
      }
      if (auth.ldap_servers.length === 0 || !auth.base_dn) {
        throw new ApiError(
          'AUTH_NOT_CONFIGURED',
          'LDAP login is not configured ([auth] ldap_servers, base_dn)',
        );
      }
      // Surrounding blanks are never part of a directory name; the token gets the entry's spelling.
      const typed = splitLogin(login);
      const user = { ...typed, name: typed.name.trim() };
      // An empty password is an anonymous bind, which LDAP servers accept: never a login.
      if (user.name === '' || password === '') throw badLogin();
      for (const server of auth.ldap_servers) {
        const client = new Client({
          url: ldapUrl(server, auth.use_ssl),
          connectTimeout: options.connectTimeoutMs ?? 5000,
          timeout: options.timeoutMs ?? 10_000,
          tlsOptions: ca ? { ca } : undefined,
        });
        let bound = false;
        try {
          await client.bind(bindName(user, auth), password);
          bound = true;
          const found = await findUser(client, auth.base_dn, auth.user_search_attribute, user.name);
          return { username: found.name, groups: found.groups };
        } catch (err) {
          if (err instanceof ApiError) throw err;
          if (!bound && refusedLogin.some((type) => err instanceof type)) throw badLogin();
          options.onServerError?.(server, err);
          // The directory refused a search by a user it had just let in: our settings are wrong.
          if (bound && err instanceof ResultCodeError) {
            throw new ApiError(
              'AUTH_NOT_CONFIGURED',
              'LDAP search failed; check [auth] base_dn and user_search_attribute',
            );
          }
          // Busy or unavailable, connection refused, timeout, TLS failure: the next one may answer.
        } finally {
          await client.unbind().catch(() => undefined);
        }
      }
      throw new ApiError('LDAP_UNAVAILABLE', 'no LDAP server could be reached; try again later');
    },
  };
}
