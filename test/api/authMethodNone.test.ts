import { describe, expect, it } from 'vitest';
import { createLdapAuthenticator } from '../../api/auth/ldapAuthenticator.js';
import { ApiError } from '../../api/errors.js';
import { parseIniConfig } from '../../config/loadAppConfig.js';

describe('[auth] method=none (the original example config)', () => {
  it('refuses every login without asking LDAP, even with LDAP servers configured', async () => {
    const ini = parseIniConfig(
      '[auth]\nmethod=none\nldap_servers=127.0.0.1:1\nbase_dn=dc=example,dc=com\n',
      'config.ini',
    );
    const contacted: string[] = [];
    const ldap = createLdapAuthenticator({ auth: ini.auth, onServerError: (s) => contacted.push(s) });
    const err = await ldap.authenticate('alice', 'secret').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).code).toBe('AUTH_NOT_CONFIGURED');
    expect((err as ApiError).detail).toBe('logins are off: [auth] method=none');
    expect(contacted).toEqual([]);
  });
});
