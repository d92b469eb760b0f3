import { describe, expect, it } from 'vitest';
import { buildSyncBody, KNOWN_SYNC_OPTION_KEYS, syncPublishes } from '../../pulp/syncOptions.js';

const remote = '/pulp/api/v3/remotes/x/y/1/';

describe('sync_options to the sync body of each repository type', () => {
  it('rpm takes every key of its sync body as given, lists included (skip_types)', () => {
    expect(
      buildSyncBody('rpm', remote, {
        skip_types: ['srpm'],
        optimize: false,
        sync_policy: 'mirror_content_only',
      }),
    ).toEqual({
      body: { remote, skip_types: ['srpm'], optimize: false, sync_policy: 'mirror_content_only' },
      ignored: [],
    });
  });

  it('rpm mirror: true is the mirror_complete policy Pulp gave it, not additive', () => {
    const { body } = buildSyncBody('rpm', remote, { mirror: true });
    expect(body).toEqual({ remote, sync_policy: 'mirror_complete' });
    expect(syncPublishes('rpm', body)).toBe(true);
    expect(buildSyncBody('rpm', remote, { mirror: false }).body).toEqual({ remote, sync_policy: 'additive' });
  });

  it('rpm mirror beside sync_policy goes to Pulp as given (Pulp decides, as for the original)', () => {
    expect(buildSyncBody('rpm', remote, { mirror: true, sync_policy: 'additive' }).body).toEqual({
      remote,
      mirror: true,
      sync_policy: 'additive',
    });
  });

  it('deb, file and python take mirror; container also signed_only', () => {
    for (const type of ['deb', 'file', 'python'] as const) {
      expect(buildSyncBody(type, remote, { mirror: true }).body).toEqual({ remote, mirror: true });
    }
    expect(buildSyncBody('container', remote, { mirror: true, signed_only: true }).body).toEqual({
      remote,
      mirror: true,
      signed_only: true,
    });
    expect(syncPublishes('deb', buildSyncBody('deb', remote, { mirror: true }).body)).toBe(false);
  });

  it("another type's key is left out and listed (Pulp refuses keys its type does not take)", () => {
    expect(buildSyncBody('deb', remote, { skip_types: ['srpm'], mirror: true, signed_only: false })).toEqual({
      body: { remote, mirror: true },
      ignored: ['signed_only', 'skip_types'],
    });
    expect(buildSyncBody('container', remote, { optimize: true }).ignored).toEqual(['optimize']);
  });

  it('a key no type takes goes to Pulp so that Pulp refuses it with its message', () => {
    expect(KNOWN_SYNC_OPTION_KEYS.has('sync_polcy')).toBe(false);
    expect(buildSyncBody('rpm', remote, { sync_polcy: 'mirror_complete' })).toEqual({
      body: { remote, sync_polcy: 'mirror_complete' },
      ignored: [],
    });
  });

  it("remote is the repository's own: a group's remote key is listed, not sent", () => {
    expect(buildSyncBody('file', remote, { remote: '/pulp/api/v3/remotes/file/file/2/' })).toEqual({
      body: { remote },
      ignored: ['remote'],
    });
  });
});
