import { isInternalUrl } from '../../domain/internalDomains.js';
import { repoNameMatcher } from '../../domain/repoFilter.js';
import {
  type EnsuredRepository,
  ensureRepository,
  type RepositorySpec,
} from '../../pulp/ensureRepository.js';
import { readServerInventory } from '../../pulp/inventory.js';
import { contentUrl, discoverDebLayout, pypiUrl, registryUrl } from '../../pulp/primaryContent.js';
import { rootCaReader } from '../../pulp/rootCa.js';
import { withHeartbeatTicker } from '../heartbeat.js';
import type { PulpServerClients } from './serverClients.js';

export interface RegistrationSettings {
  useHttpsForSync: boolean;
  internalDomains: readonly string[];
  remoteTlsValidation: boolean;
  rootCaFile?: string;
  sockConnectTimeout: number;
  sockReadTimeout: number;
}

export interface RegisterFromPrimaryResult {
  registered: number;
  created: number;
  /** name → reason, for repositories that could not be registered (the others still were). */
  failed: Record<string, string>;
}

export function createRegistrationActivities(clients: PulpServerClients, settings: RegistrationSettings) {
  const readRootCa = rootCaReader(settings.rootCaFile);
  return {
    /**
     * Registers on a secondary every repository of its primary whose name matches: a remote
     * pointing at the primary's content URL of the repository's distribution, the repository
     * with the primary's description (as the original copied it) and a distribution at the same
     * base path that follows the repository.
     */
    async registerReposFromPrimary(input: {
      server: string;
      sourceServer: string;
      regexInclude?: string;
      regexExclude?: string;
    }): Promise<RegisterFromPrimaryResult> {
      // One repository at a time over a whole primary: minutes on a fleet.
      return withHeartbeatTicker(async () => {
        const primary = await clients.forServer(input.sourceServer);
        const secondary = await clients.forServer(input.server);
        const matches = repoNameMatcher(input);
        // Every type the primary serves (all five): a repository without a distribution is not served.
        const entries = (await readServerInventory(primary)).filter((e) => matches(e.name) && e.basePath);
        const result: RegisterFromPrimaryResult = { registered: 0, created: 0, failed: {} };
        for (const e of entries) {
          const base = contentUrl(input.sourceServer, e.basePath ?? '', settings.useHttpsForSync);
          // A primary is normally internal: its remotes validate TLS with the [ca] root CA.
          const internal = isInternalUrl(base, settings.internalDomains);
          const common = {
            tls_validation: internal ? true : settings.remoteTlsValidation,
            ca_cert: internal ? await readRootCa() : null,
            sock_connect_timeout: settings.sockConnectTimeout,
            sock_read_timeout: settings.sockReadTimeout,
            policy: 'immediate' as const,
          };
          let spec: RepositorySpec;
          try {
            if (e.repoType === 'deb') {
              const layout = await discoverDebLayout(base);
              if (layout.distributions.length === 0) throw new Error(`no dists/*/Release under ${base}`);
              spec = {
                name: e.name,
                repoType: 'deb',
                description: e.description,
                basePath: e.basePath ?? e.name,
                remote: {
                  url: base,
                  distributions: layout.distributions.join(' '),
                  components: layout.components.join(' ') || null,
                  architectures: layout.architectures.join(' ') || null,
                  ...common,
                },
              };
            } else if (e.repoType === 'python') {
              // The primary's PyPI API, not its content app: it serves every project of the
              // repository (the content app only a publication's simple/ pages).
              spec = {
                name: e.name,
                repoType: 'python',
                description: e.description,
                basePath: e.basePath ?? e.name,
                remote: {
                  url: pypiUrl(input.sourceServer, e.basePath ?? '', settings.useHttpsForSync),
                  ...common,
                },
              };
            } else if (e.repoType === 'container') {
              spec = {
                name: e.name,
                repoType: 'container',
                description: e.description,
                basePath: e.basePath ?? e.name,
                remote: {
                  url: registryUrl(input.sourceServer, settings.useHttpsForSync),
                  upstream_name: e.basePath ?? e.name,
                  ...common,
                },
              };
            } else {
              spec = {
                name: e.name,
                repoType: e.repoType,
                description: e.description,
                basePath: e.basePath ?? e.name,
                remote: { url: e.repoType === 'file' ? `${base}PULP_MANIFEST` : base, ...common },
              };
            }
            const ensured: EnsuredRepository = await ensureRepository(secondary, spec);
            result.registered++;
            if (ensured.created.includes('repository')) result.created++;
          } catch (err) {
            result.failed[e.name] = (err as Error).message;
          }
        }
        return result;
      });
    },
  };
}
