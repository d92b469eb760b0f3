import { base64url, SignJWT } from 'jose';
import { Client as LdapClient } from 'ldapts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findUser, type LdapAuthenticator } from '../../api/auth/ldapAuthenticator.js';
import {
  bindName,
  escapeDnValue,
  groupNamesFromMemberOf,
  splitLogin,
  userSearchFilter,
} from '../../api/auth/ldapNames.js';
import { LoginThrottle } from '../../api/auth/loginThrottle.js';
import { ApiError } from '../../api/errors.js';
import { stack } from '../support/stack.js';
import { type ApiHarness, body, JWT_SECRET, jsonRequest, startApiHarness } from './support/apiHarness.js';

// Login against the local stack's real OpenLDAP (alice is in the admin group, bob is not) and
// the JWTs the API issues and checks.

let h: ApiHarness;
const { adminUser: alice, plainUser: bob } = stack.ldap;

const login = (username: string, password: string, app = h.app) =>
  app.request('/v1/auth/login', jsonRequest('POST', { username, password }));

// A mutating route whose body is invalid: a request that gets past auth answers 422 and starts nothing.
const guardedRequest = (token?: string) =>
  h.app.request(`/v1/pulp_servers/${h.seed.servers.alpha}/sync_repos`, jsonRequest('POST', {}, token));

beforeAll(async () => {
  h = await startApiHarness();
}, 60_000);

afterAll(async () => {
  await h?.close();
});

describe('POST /v1/auth/login', () => {
  it('logs the admin user in and the token carries its groups', async () => {
    const res = await login(alice.name, alice.password);
    expect(res.status).toBe(200);
    const { access_token, token_type, expires_in } = await body<{
      access_token: string;
      token_type: string;
      expires_in: number;
    }>(res);
    expect(token_type).toBe('bearer');
    expect(expires_in).toBe(30 * 60);
    const lookup = await body(await h.app.request(`/v1/auth/token_lookup?token=${access_token}`));
    expect(lookup).toMatchObject({ username: alice.name });
    expect(lookup.groups).toContain(stack.ldap.adminGroup);
    const expires = Date.parse(String(lookup.expires));
    expect(expires - Date.now()).toBeGreaterThan(29 * 60_000);
    expect(expires - Date.now()).toBeLessThanOrEqual(30 * 60_000);
  });

  it('logs the plain user in without the admin group', async () => {
    const token = await h.tokenFor('bob');
    const lookup = await body(
      await h.app.request('/v1/auth/token_lookup', { headers: { Authorization: `Bearer ${token}` } }),
    );
    expect(lookup.username).toBe(bob.name);
    expect(lookup.groups).not.toContain(stack.ldap.adminGroup);
    expect((lookup.groups as string[]).length).toBeGreaterThan(0);
  });

  it.each([alice.name.toUpperCase(), ` ${alice.name} `, `PULPMANAGER\\${alice.name.toUpperCase()}`])(
    'a login typed as %j gets a token named as the directory spells it',
    async (typed) => {
      const res = await login(typed, alice.password);
      expect(res.status).toBe(200);
      const { access_token } = await body<{ access_token: string }>(res);
      const lookup = await body(await h.app.request(`/v1/auth/token_lookup?token=${access_token}`));
      expect(lookup.username).toBe(alice.name);
    },
  );

  it('accepts DOMAIN\\user logins, binding with the name part', async () => {
    const res = await login(`PULPMANAGER\\${alice.name}`, alice.password);
    expect(res.status).toBe(200);
  });

  it('answers 401 for a wrong password and for an unknown user, with the same words', async () => {
    const wrong = await login(alice.name, 'not-the-password');
    const unknown = await login('nobody-here', 'whatever');
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(await body(wrong)).toEqual({ detail: 'invalid username or password' });
    expect(await body(unknown)).toEqual({ detail: 'invalid username or password' });
  });

  it('refuses an empty password (an anonymous bind) before asking LDAP', async () => {
    expect((await login(alice.name, '')).status).toBe(422);
    await expect(
      h.appWith({}).request('/v1/auth/login', jsonRequest('POST', { username: alice.name })),
    ).resolves.toHaveProperty('status', 422);
  });

  it.each(['*', `${alice.name}*`, '*)(uid=*', `${alice.name})(|(uid=*`, `${alice.name}\\`, '\\*'])(
    'a login of %j does not widen the search: 401',
    async (username) => {
      const res = await login(username, alice.password);
      expect(res.status).toBe(401);
    },
  );

  it('answers 503 when no LDAP server can be reached', async () => {
    const app = h.appWith({ ini: { auth: { ldap_servers: '127.0.0.1:1, 127.0.0.1:9' } } });
    const res = await login(alice.name, alice.password, app);
    expect(res.status).toBe(503);
    expect(await body(res)).toEqual({ detail: 'no LDAP server could be reached; try again later' });
  });

  it('goes on to the next LDAP server when the first is down', async () => {
    const app = h.appWith({ ini: { auth: { ldap_servers: `127.0.0.1:1,${stack.ldap.url}` } } });
    expect((await login(alice.name, alice.password, app)).status).toBe(200);
  });

  it('answers 503 (a configuration problem, not bad credentials) when base_dn does not exist', async () => {
    const app = h.appWith({ ini: { auth: { base_dn: 'dc=nowhere,dc=test' } } });
    const res = await login(alice.name, alice.password, app);
    expect(res.status).toBe(503);
    expect((await body(res)).detail).toContain('base_dn');
  });

  it('answers 503 when JWT_SECRET is not set (and require_jwt_auth is off)', async () => {
    const app = h.appWith({ ini: { auth: { require_jwt_auth: false } }, jwtSecret: undefined });
    const res = await login(alice.name, alice.password, app);
    expect(res.status).toBe(503);
    expect(await body(res)).toEqual({ detail: 'JWT_SECRET is not set' });
  });

  it('never writes a password or a token to the logs', async () => {
    const token = await h.tokenFor('alice');
    await h.app.request(`/v1/auth/token_lookup?token=${token}`);
    await login(alice.name, 'a-wrong-secret-password');
    const logs = h.logs.join('\n');
    expect(logs).toContain('"path":"/v1/auth/token_lookup"');
    expect(logs).not.toContain(alice.password);
    expect(logs).not.toContain('a-wrong-secret-password');
    expect(logs).not.toContain(token);
  });
});

describe('the LDAP search filter against the real directory', () => {
  let client: LdapClient;

  beforeAll(async () => {
    client = new LdapClient({ url: stack.ldap.url });
    await client.bind(`uid=${alice.name},ou=people,${stack.ldap.baseDn}`, alice.password);
  });

  afterAll(async () => {
    await client.unbind();
  });

  it('finds the user by sAMAccountName and reads group CNs from memberOf', async () => {
    const user = await findUser(client, stack.ldap.baseDn, 'sAMAccountName', alice.name.toUpperCase());
    expect(user.groups).toContain(stack.ldap.adminGroup);
    expect(user.name).toBe(alice.name);
  });

  it.each(['*', 'al*', '*)(sAMAccountName=*', `${alice.name})(objectClass=*`])(
    'treats %j as a literal name: no match, 401',
    async (name) => {
      await expect(findUser(client, stack.ldap.baseDn, 'sAMAccountName', name)).rejects.toMatchObject({
        code: 'UNAUTHENTICATED',
      });
    },
  );

  it('escapes the filter value per RFC 4515', () => {
    expect(userSearchFilter('sAMAccountName', '*)(uid=*\\').toString()).toBe(
      '(sAMAccountName=\\2a\\29\\28uid=\\2a\\5c)',
    );
  });
});

describe('LDAP names', () => {
  it.each([
    ['alice', { name: 'alice' }],
    ['CORP\\alice', { domain: 'CORP', name: 'alice' }],
    ['CORP\\a\\b', { domain: 'CORP', name: 'a\\b' }],
  ])('splits %j', (login, expected) => {
    expect(splitLogin(login)).toEqual(expected);
  });

  it('binds as DOMAIN\\user, the default domain, or through the DN template', () => {
    expect(bindName({ name: 'alice' }, { default_domain: 'CORP' })).toBe('CORP\\alice');
    expect(bindName({ domain: 'EU', name: 'alice' }, { default_domain: 'CORP' })).toBe('EU\\alice');
    expect(bindName({ name: 'alice' }, {})).toBe('alice');
    expect(bindName({ name: 'a,b=c+' }, { bind_dn_template: 'uid={username},ou=people,dc=x' })).toBe(
      'uid=a\\,b\\=c\\+,ou=people,dc=x',
    );
  });

  it('escapes DN values per RFC 4514', () => {
    expect(escapeDnValue(' #lead')).toBe('\\ #lead');
    expect(escapeDnValue('#x')).toBe('\\#x');
    expect(escapeDnValue('trail ')).toBe('trail\\ ');
    expect(escapeDnValue('a\\b"c<d>e;')).toBe('a\\\\b\\"c\\<d\\>e\\;');
  });

  it('takes group CNs from memberOf values of either case, unescaped, once each', () => {
    expect(
      groupNamesFromMemberOf([
        'CN=Pulp-Admins,OU=Groups,DC=corp,DC=example',
        'cn=ops\\, europe,ou=groups,dc=x',
        Buffer.from('cn=pulp-admins,ou=groups,dc=x'),
        'CN=Pulp-Admins,OU=Groups,DC=corp,DC=example',
        'uid=not-a-group,dc=x',
      ]),
    ).toEqual(['Pulp-Admins', 'ops, europe', 'pulp-admins']);
    expect(groupNamesFromMemberOf('cn=solo,dc=x')).toEqual(['solo']);
    expect(groupNamesFromMemberOf(undefined)).toEqual([]);
  });
});

describe('tokens on mutating routes', () => {
  const key = new TextEncoder().encode(JWT_SECRET);
  const claims = { username: alice.name, groups: [stack.ldap.adminGroup] };

  it('401 without a token, with a WWW-Authenticate challenge', async () => {
    const res = await guardedRequest();
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Bearer');
  });

  it('403 for a valid token without an admin group', async () => {
    const res = await guardedRequest(await h.tokenFor('bob'));
    expect(res.status).toBe(403);
    expect((await body(res)).detail).toContain(stack.ldap.adminGroup);
  });

  it('an admin token gets past auth (here to body validation)', async () => {
    expect((await guardedRequest(await h.tokenFor('alice'))).status).toBe(422);
  });

  it('401 for a tampered token', async () => {
    const token = await h.tokenFor('bob');
    const [header, , signature] = token.split('.');
    const forged = base64url.encode(JSON.stringify({ ...claims, exp: Math.floor(Date.now() / 1000) + 600 }));
    const res = await guardedRequest(`${header}.${forged}.${signature}`);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toContain('invalid_token');
  });

  it('401 for an expired token', async () => {
    const expired = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuedAt(Math.floor(Date.now() / 1000) - 7200)
      .setExpirationTime(Math.floor(Date.now() / 1000) - 60)
      .sign(key);
    const res = await guardedRequest(expired);
    expect(res.status).toBe(401);
    expect(await body(res)).toEqual({ detail: 'token expired' });
  });

  it('401 for alg: none', async () => {
    const header = base64url.encode(JSON.stringify({ alg: 'none', typ: 'JWT' }));
    const payload = base64url.encode(JSON.stringify({ ...claims, exp: Math.floor(Date.now() / 1000) + 600 }));
    expect((await guardedRequest(`${header}.${payload}.`)).status).toBe(401);
  });

  it('401 for a token signed with another algorithm, with another key, or without exp', async () => {
    const otherAlg = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS512' })
      .setExpirationTime('5m')
      .sign(key);
    const otherKey = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256' })
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode('another-secret-another-secret-another'));
    const noExp = await new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).sign(key);
    for (const token of [otherAlg, otherKey, noExp, 'not-a-jwt']) {
      expect((await guardedRequest(token)).status).toBe(401);
    }
  });

  it('token_lookup answers 401 for a bad token and when none is given', async () => {
    expect((await h.app.request('/v1/auth/token_lookup?token=abc.def.ghi')).status).toBe(401);
    expect((await h.app.request('/v1/auth/token_lookup')).status).toBe(401);
  });

  it('with require_jwt_auth = false mutating routes need no token', async () => {
    const app = h.appWith({ ini: { auth: { require_jwt_auth: false } } });
    const res = await app.request(
      `/v1/pulp_servers/${h.seed.servers.alpha}/sync_repos`,
      jsonRequest('POST', {}),
    );
    expect(res.status).toBe(422);
  });

  it('refuses a JWT_SECRET shorter than 32 bytes, whether or not tokens are required', () => {
    const short = 'x'.repeat(31);
    expect(() => h.appWith({ jwtSecret: short })).toThrow(/JWT_SECRET: must be at least 32 bytes/);
    expect(() => h.appWith({ jwtSecret: short, ini: { auth: { require_jwt_auth: false } } })).toThrow(
      /JWT_SECRET/,
    );
    expect(() => h.appWith({ jwtSecret: 'x'.repeat(32) })).not.toThrow();
  });

  it('refuses to build an app that requires tokens without JWT_SECRET or admin_group', () => {
    expect(() => h.appWith({ jwtSecret: undefined })).toThrow(/JWT_SECRET/);
    expect(() => h.appWith({ ini: { auth: { admin_group: '' } } })).toThrow(/admin_group/);
  });
});

describe('login throttling', () => {
  // A directory stand-in that counts what it is asked: the throttle must answer before it.
  function countingDirectory(): LdapAuthenticator & { calls: number } {
    const dir = {
      calls: 0,
      async authenticate(login: string, password: string) {
        dir.calls += 1;
        if (password !== 'right') throw new ApiError('UNAUTHENTICATED', 'invalid username or password');
        return { username: login.trim().toLowerCase(), groups: [] };
      },
    };
    return dir;
  }
  const from = (
    app: ReturnType<ApiHarness['appWith']>,
    address: string,
    username: string,
    password: string,
  ) =>
    app.request('/v1/auth/login', jsonRequest('POST', { username, password }), {
      incoming: { socket: { remoteAddress: address } },
    });

  it('the 31st wrong password for a user in a minute gets 429 with Retry-After, and LDAP is not asked', async () => {
    const dir = countingDirectory();
    const app = h.appWith({ deps: { ldap: dir } });
    for (let i = 0; i < 30; i++) {
      // Spread over addresses: the per-user count alone must stop it.
      expect((await from(app, `10.0.0.${i}`, 'carol', 'wrong')).status).toBe(401);
    }
    const res = await from(app, '10.0.1.1', ' CAROL', 'right');
    expect(res.status).toBe(429);
    const retryAfter = Number(res.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect((await body(res)).detail).toMatch(/too many failed logins/);
    expect(dir.calls).toBe(30);
    // Another user is not held back by carol's count.
    expect((await from(app, '10.0.1.1', 'dave', 'right')).status).toBe(200);
  });

  it('counts per client address across user names; a good login there does not clear the count', async () => {
    const dir = countingDirectory();
    const app = h.appWith({ deps: { ldap: dir } });
    for (let i = 0; i < 29; i++) expect((await from(app, '192.0.2.7', `user${i}`, 'wrong')).status).toBe(401);
    expect((await from(app, '192.0.2.7', 'known', 'right')).status).toBe(200);
    expect((await from(app, '192.0.2.7', 'user-x', 'wrong')).status).toBe(401);
    const res = await from(app, '192.0.2.7', 'user-y', 'right');
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(dir.calls).toBe(31);
    expect((await from(app, '192.0.2.8', 'user-y', 'right')).status).toBe(200);
  });

  it('takes its limits from [auth]', async () => {
    expect(h.config.ini.auth).toMatchObject({
      login_max_failures_per_user: 30,
      login_max_failures_per_address: 30,
      login_failure_window_secs: 60,
    });
    const app = h.appWith({
      ini: { auth: { login_max_failures_per_user: 2, login_failure_window_secs: 120 } },
      deps: { ldap: countingDirectory() },
    });
    expect((await from(app, '10.1.0.1', 'erin', 'wrong')).status).toBe(401);
    expect((await from(app, '10.1.0.2', 'erin', 'wrong')).status).toBe(401);
    const res = await from(app, '10.1.0.3', 'erin', 'right');
    expect(res.status).toBe(429);
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(60);
    expect(() => h.appWith({ ini: { auth: { login_failure_window_secs: 0 } } })).toThrow(
      /auth\.login_failure_window_secs: expected a positive number/,
    );
  });

  it('forgets failures after the window and a success clears the user count', () => {
    let now = 1_000_000;
    const t = new LoginThrottle(
      { login_max_failures_per_user: 2, login_max_failures_per_address: 5, login_failure_window_secs: 60 },
      () => now,
    );
    t.failed('frank', 'a');
    t.failed('FRANK', 'b');
    expect(t.retryAfterSecs('frank', 'c')).toBe(60);
    now += 59_500;
    expect(t.retryAfterSecs('frank', 'c')).toBe(1);
    now += 500;
    expect(t.retryAfterSecs('frank', 'c')).toBe(0);
    t.failed('frank', 'a');
    t.succeeded('frank');
    t.failed('frank', 'a');
    expect(t.retryAfterSecs('frank', 'z')).toBe(0);
  });

  it('keeps memory bounded under a spray of names and addresses', () => {
    let now = 0;
    const t = new LoginThrottle(
      { login_max_failures_per_user: 3, login_max_failures_per_address: 3, login_failure_window_secs: 60 },
      () => now,
      100,
    );
    for (let i = 0; i < 5000; i++) {
      now += 1;
      t.failed(`user${i}`, `addr${i}`);
    }
    expect(t.entries).toBeLessThanOrEqual(200);
    // The newest counts are the ones kept.
    t.failed('user4999', 'addr4999');
    t.failed('user4999', 'addr4999');
    expect(t.retryAfterSecs('user4999', 'elsewhere')).toBeGreaterThan(0);
  });
});
