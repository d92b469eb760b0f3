import type { Client } from 'openapi-fetch';
import { type PulpClient, unwrap } from './client.js';

/**
 * What a distribution serves. Pulp refuses a distribution with both a repository and a
 * publication ("Only one of the attributes 'repository' and 'publication' may be used
 * simultaneously", pulpcore 3.123 with pulp_rpm, pulp_deb and pulp_file), so these are exclusive.
 * - repository: follows its repository: serves its newest publication (a newer version not yet
 *   published does not interrupt that) or, for types served without one, its latest version;
 *   the original Pulp Manager created every distribution this way.
 * - publication: pinned by an operator (or by releases before this one) to one publication.
 * - version: pinned to one repository version.
 * - none: serves nothing.
 */
export type DistributionMode =
  | { kind: 'repository'; repository: string }
  | { kind: 'publication'; publication: string }
  | { kind: 'version'; repositoryVersion: string }
  | { kind: 'none' };

/** The fields of a distribution of any type that say what it serves (some types lack some). */
export interface DistributionServes {
  repository?: string | null;
  publication?: string | null;
  repository_version?: string | null;
}

export function distributionMode(d: DistributionServes): DistributionMode {
  if (d.repository) return { kind: 'repository', repository: d.repository };
  if (d.publication) return { kind: 'publication', publication: d.publication };
  if (d.repository_version) return { kind: 'version', repositoryVersion: d.repository_version };
  return { kind: 'none' };
}

/** The PATCH body a distribution gets once a publication exists. */
export type DistributionPatch = { publication: string } | { repository: string };

/**
 * What to change on a distribution after its repository got a new publication, by mode: one
 * that follows its repository serves the publication already (nothing to change, and Pulp
 * refuses the PATCH); one pinned to a publication is moved to the new one; one that serves
 * nothing starts following its repository, as the original created them. A version pin is an
 * operator's choice that a publication does not override.
 */
export function distributionUpdateAfterPublish(
  mode: DistributionMode,
  publicationHref: string,
  repoHref: string,
): DistributionPatch | null {
  switch (mode.kind) {
    case 'repository':
    case 'version':
      return null;
    case 'publication':
      return mode.publication === publicationHref ? null : { publication: publicationHref };
    case 'none':
      return { repository: repoHref };
  }
}

/**
 * GET and PATCH on a distribution href of any type: the calls and the fields read here are the
 * same for every plugin, so one narrow schema serves all of them (as startDeleteObject does).
 */
interface DistributionByHrefPaths {
  '{distribution_href}': {
    parameters: { query?: never; header?: never; path: { distribution_href: string }; cookie?: never };
    get: {
      parameters: { query?: never; header?: never; path: { distribution_href: string }; cookie?: never };
      requestBody?: never;
      responses: {
        200: { headers: Record<string, unknown>; content: { 'application/json': DistributionServes } };
      };
    };
    patch: {
      parameters: { query?: never; header?: never; path: { distribution_href: string }; cookie?: never };
      requestBody: { content: { 'application/json': DistributionPatch } };
      responses: {
        200: { headers: Record<string, unknown>; content: { 'application/json': unknown } };
        202: { headers: Record<string, unknown>; content: { 'application/json': { task: string } } };
      };
    };
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    trace?: never;
  };
}

const byHref = (client: PulpClient) => client as unknown as Client<DistributionByHrefPaths>;

export async function readDistributionMode(client: PulpClient, href: string): Promise<DistributionMode> {
  const d = await unwrap(
    byHref(client).GET('{distribution_href}', { params: { path: { distribution_href: href } } }),
  );
  return distributionMode(d);
}

/**
 * PATCHes a distribution. Since pulpcore 3.90 the update answers 200 when done at once or 202
 * with a task; returns the task href in the second case.
 */
export async function patchDistribution(
  client: PulpClient,
  href: string,
  body: DistributionPatch,
): Promise<string | undefined> {
  const data = await unwrap(
    byHref(client).PATCH('{distribution_href}', { params: { path: { distribution_href: href } }, body }),
  );
  return (data as { task?: string } | undefined)?.task;
}
