import { Client, InvalidCredentialsError } from 'ldapts';
import { describe, expect, it } from 'vitest';
import { stack } from '../support/stack.js';

const userDn = (name: string) => `uid=${name},ou=people,${stack.ldap.baseDn}`;

async function groupsOf(name: string, password: string): Promise<string[]> {
  const client = new Client({ url: stack.ldap.url });
  try {
    await client.bind(userDn(name), password);
    const { searchEntries } = await client.search(stack.ldap.baseDn, {
      scope: 'sub',
      filter: `(sAMAccountName=${name})`,
      attributes: ['memberOf'],
    });
    const memberOf = searchEntries[0]?.memberOf ?? [];
    return (Array.isArray(memberOf) ? memberOf : [memberOf]).map(String);
  } finally {
    await client.unbind();
  }
}

describe('local stack: OpenLDAP', () => {
  it('binds as the admin-group user and reads its groups from memberOf', async () => {
    const groups = await groupsOf(stack.ldap.adminUser.name, stack.ldap.adminUser.password);
    expect(groups).toContain(`cn=${stack.ldap.adminGroup},ou=groups,${stack.ldap.baseDn}`);
  });

  it('the plain user is not in the admin group', async () => {
    const groups = await groupsOf(stack.ldap.plainUser.name, stack.ldap.plainUser.password);
    expect(groups.length).toBeGreaterThan(0);
    expect(groups.join(';')).not.toContain(`cn=${stack.ldap.adminGroup},`);
  });

  it('rejects a wrong password', async () => {
    await expect(groupsOf(stack.ldap.adminUser.name, 'wrong-password')).rejects.toBeInstanceOf(
      InvalidCredentialsError,
    );
  });
});
