import { ApplicationFailure, Context } from '@temporalio/activity';
import { formatIssue } from '../../config/errors.js';
import type { AppConfig } from '../../config/loadAppConfig.js';
import { readRepoConfigDir } from '../../config/repoConfigFiles.js';
import { type RepoConfigEntry, repoConfigRulesFromIni } from '../../config/repoConfigRules.js';
import { repoNameMatcher } from '../../domain/repoFilter.js';
import { ensureRepository, type RemoteSpec, type RepositorySpec } from '../../pulp/ensureRepository.js';
import { rootCaReader } from '../../pulp/rootCa.js';
import { RepoConfigSourceError, withRepoConfigCheckout } from '../git/repoConfigCheckout.js';
import { withHeartbeatTicker } from '../heartbeat.js';
import { createRepoSecretReader, type RepoSecretReader } from '../vault/repoSecrets.js';
import type { PulpServerClients } from './serverClients.js';

/** What a registration run did; plain data for the task's stage (never a secret value). */
export interface RepoConfigRegistration {
  source: string;
  commit: string | null;
  files: number;
  filteredOut: number;
  selected: number;
  created: string[];
  updated: string[];
  unchanged: number;
  /** file path → why its repository could not be created or updated. */
  failed: Record<string, string>;
  /** Files that could not be read, one line each: `<path>: <key>: <reason>`. */
  fileErrors: string[];
  /**
   * What was read but not used (unknown keys, values global.json replaces), one line each; the
   * first NOTICES_KEPT and a count of the rest (a fleet may repeat one unread key in every file,
   * and this result is stored in the workflow's history).
   */
  notices: string[];
}

const APPLY_CONCURRENCY = 4;
const NOTICES_KEPT = 100;

/** Replaces every occurrence of the given values: errors from Pulp may echo a field back. */
function redactValues(text: string, values: readonly string[]): string {
  return values.reduce((t, v) => (v.length >= 4 ? t.split(v).join('***') : t), text);
}

export function createRepoConfigActivities(clients: PulpServerClients, config: AppConfig) {
  const readRootCa = rootCaReader(config.ini.ca.root_ca_file_path);

  /** The remote as Pulp gets it: secrets from Vault and the root CA are added only here. */
  async function remoteSpec(
    entry: RepoConfigEntry,
    secrets: RepoSecretReader,
    secretValues: string[],
  ): Promise<RemoteSpec | undefined> {
    if (!entry.remote) return undefined;
    const { internalFeed, ...remote } = entry.remote;
    const spec: RemoteSpec = { ...remote, ca_cert: internalFeed ? await readRootCa() : null };
    for (const ref of entry.secrets) {
      const value = await secrets.read(ref);
      secretValues.push(value);
      spec[ref.remote_property] = value;
    }
    return spec;
  }

  return {
    /**
     * Registers the repositories of the repo config on a server: shallow clone (or local
     * directory), parse with every rule of the spec, filter by the regexes, then create or
     * update remote, repository and distribution of each. A broken file or a repository Pulp
     * refuses is reported with its path; every other one is still applied.
     */
    async registerReposFromRepoConfig(input: {
      server: string;
      regexInclude?: string;
      regexExclude?: string;
    }): Promise<RepoConfigRegistration> {
      const ctx = Context.current();
      const { pulp, vault } = config.ini;
      const rules = repoConfigRulesFromIni(config.ini);
      const progress = { phase: 'reading repo config', done: 0, total: 0 };
      try {
        return await withHeartbeatTicker(
          () =>
            withRepoConfigCheckout(
              {
                gitUrl: pulp.git_repo_config,
                gitDir: pulp.git_repo_config_dir,
                localDir: pulp.local_repo_config_dir,
              },
              async (checkout) => {
                const read = await readRepoConfigDir(checkout.dir, {
                  rules,
                  matches: repoNameMatcher(input),
                  displayRoot: checkout.displayRoot,
                });
                const result: RepoConfigRegistration = {
                  source: checkout.source,
                  commit: checkout.commit,
                  files: read.files,
                  filteredOut: read.filteredOut,
                  selected: read.entries.length,
                  created: [],
                  updated: [],
                  unchanged: 0,
                  failed: {},
                  fileErrors: read.issues.map(formatIssue),
                  notices: [
                    ...read.notices.slice(0, NOTICES_KEPT).map(formatIssue),
                    ...(read.notices.length > NOTICES_KEPT
                      ? [`… and ${read.notices.length - NOTICES_KEPT} more`]
                      : []),
                  ],
                };
                // One line per run: a fleet's files may repeat the same unread key a thousand times.
                if (result.notices.length > 0)
                  ctx.log.warn(`repo config: ${read.notices.length} notice(s) (keys read but not used)`, {
                    notices: result.notices,
                  });
                const client = await clients.forServer(input.server);
                const secrets = createRepoSecretReader({
                  vaultAddr: vault.vault_addr ?? 'http://127.0.0.1:8200',
                  namespace: vault.repo_secret_namespace,
                });
                Object.assign(progress, { phase: 'registering repos', total: read.entries.length });
                const queue = [...read.entries];
                const applyNext = async () => {
                  for (let entry = queue.shift(); entry; entry = queue.shift()) {
                    if (ctx.cancellationSignal.aborted) throw ctx.cancellationSignal.reason;
                    await applyEntry(entry);
                  }
                };
                const applyEntry = async (entry: RepoConfigEntry) => {
                  const secretValues: string[] = [];
                  try {
                    const spec: RepositorySpec = {
                      name: entry.name,
                      repoType: entry.repoType,
                      description: entry.description,
                      basePath: entry.basePath,
                      remote: await remoteSpec(entry, secrets, secretValues),
                    };
                    const ensured = await ensureRepository(client, spec);
                    if (ensured.created.length > 0) result.created.push(entry.name);
                    else if (ensured.updated.length > 0) result.updated.push(entry.name);
                    else result.unchanged++;
                  } catch (err) {
                    result.failed[entry.file] = redactValues(
                      `${entry.name}: ${(err as Error).message}`,
                      secretValues,
                    );
                  }
                  progress.done++;
                };
                // A few repositories at a time: each is several Pulp round trips, mostly waiting.
                await Promise.all(
                  Array.from({ length: Math.min(APPLY_CONCURRENCY, queue.length) }, applyNext),
                );
                result.created.sort();
                result.updated.sort();
                return result;
              },
            ),
          { details: () => progress },
        );
      } catch (err) {
        if (err instanceof RepoConfigSourceError && !err.retryable)
          throw ApplicationFailure.nonRetryable(err.message, 'RepoConfigSourceError');
        throw err;
      }
    },
  };
}
