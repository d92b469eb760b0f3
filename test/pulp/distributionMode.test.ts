import { describe, expect, it } from 'vitest';
import { snapshotExclusion } from '../../activities/db/repoSelectionActivities.js';
import { distributionMode, distributionUpdateAfterPublish } from '../../pulp/distributionMode.js';

const repo = '/pulp/api/v3/repositories/rpm/rpm/r1/';
const oldPub = '/pulp/api/v3/publications/rpm/rpm/p1/';
const newPub = '/pulp/api/v3/publications/rpm/rpm/p2/';

describe('distributionMode', () => {
  it('reads what a distribution serves from its fields', () => {
    expect(distributionMode({ repository: repo, publication: null })).toEqual({
      kind: 'repository',
      repository: repo,
    });
    expect(distributionMode({ repository: null, publication: oldPub })).toEqual({
      kind: 'publication',
      publication: oldPub,
    });
    expect(distributionMode({ repository: null, repository_version: `${repo}versions/3/` })).toEqual({
      kind: 'version',
      repositoryVersion: `${repo}versions/3/`,
    });
    // the generic /distributions/ list has no publication field at all
    expect(distributionMode({ repository: null })).toEqual({ kind: 'none' });
  });
});

describe('distributionUpdateAfterPublish', () => {
  it('leaves a distribution that follows its repository alone (Pulp refuses publication= on it)', () => {
    expect(distributionUpdateAfterPublish({ kind: 'repository', repository: repo }, newPub, repo)).toBeNull();
  });

  it('moves a distribution pinned to a publication to the new one', () => {
    expect(
      distributionUpdateAfterPublish({ kind: 'publication', publication: oldPub }, newPub, repo),
    ).toEqual({
      publication: newPub,
    });
    expect(
      distributionUpdateAfterPublish({ kind: 'publication', publication: newPub }, newPub, repo),
    ).toBeNull();
  });

  it('makes a distribution that serves nothing follow its repository, as the original created them', () => {
    expect(distributionUpdateAfterPublish({ kind: 'none' }, newPub, repo)).toEqual({ repository: repo });
  });

  it('keeps a pin to a repository version', () => {
    expect(
      distributionUpdateAfterPublish(
        { kind: 'version', repositoryVersion: `${repo}versions/1/` },
        newPub,
        repo,
      ),
    ).toBeNull();
  });
});

describe('snapshotExclusion', () => {
  const remote = '/pulp/api/v3/remotes/rpm/rpm/m1/';
  it('takes repos with a remote of a snapshotted type', () => {
    expect(
      snapshotExclusion({ name: 'ext-a', repoType: 'rpm', remoteHref: remote }, 'snap-b-'),
    ).toBeUndefined();
    expect(
      snapshotExclusion({ name: 'ext-a', repoType: 'deb', remoteHref: remote }, 'snap-b-'),
    ).toBeUndefined();
  });

  it('leaves out internal repos and earlier snapshots (no remote), as the original did', () => {
    expect(snapshotExclusion({ name: 'int-apps', repoType: 'rpm', remoteHref: null }, 'snap-b-')).toMatch(
      /has no remote/,
    );
    // a snapshot under another prefix: without this rule it became snap-b-snap-a-ext-a
    expect(snapshotExclusion({ name: 'snap-a-ext-a', repoType: 'rpm', remoteHref: null }, 'snap-b-')).toMatch(
      /has no remote/,
    );
  });

  it('names the prefix first, then the type', () => {
    expect(snapshotExclusion({ name: 'snap-b-ext-a', repoType: 'rpm', remoteHref: null }, 'snap-b-')).toBe(
      'is a snapshot with this prefix',
    );
    expect(snapshotExclusion({ name: 'ext-f', repoType: 'file', remoteHref: remote }, 'snap-b-')).toBe(
      'file repositories are not snapshotted',
    );
  });
});
