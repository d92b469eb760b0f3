import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type DurationSpec, sampleDuration, seededRandom } from './simulatedDurations.js';

/**
 * PULP API SIMULATOR — a test double, not Pulp. It answers the subset of the Pulp 3 REST API
 * that Pulp Manager's activities call (repositories, remotes, distributions, publications,
 * sync, modify, copy, versions, content lists, tasks with waiting/running/completed/failed/
 * canceled/skipped and cancel, updates answered 200 at once (remotes) or 202 with a task,
 * status, signing services, limit/offset pagination) for the rpm, deb and
 * file plugins, with task durations drawn from a distribution, failure rates, 5xx and hung-call
 * injection, and thousands of repositories. It exists for what the real Pulp servers of the
 * dev stack cannot give: fleet scale with known task durations (bench/) and faults on demand
 * (test/resilience/). Everything the real Pulp can do is tested against the real Pulp.
 */

export type SimRepoType = 'rpm' | 'deb' | 'file';
export type SimTaskKind = 'sync' | 'modify' | 'publish' | 'update' | 'create' | 'delete' | 'copy';
type TaskState = 'waiting' | 'skipped' | 'running' | 'canceling' | 'completed' | 'failed' | 'canceled';

export interface SimulatorFaults {
  /** Requests whose path matches this regex are the ones faults apply to (all when unset). */
  pathPattern?: string;
  /** Methods faults apply to (all when unset). */
  methods?: string[];
  /** Fraction (0..1) of matching requests answered with `errorStatus` instead of being handled. */
  errorRate?: number;
  errorStatus?: number;
  /** The next N matching requests are answered with `errorStatus` (a burst), then normal again. */
  errorBurst?: number;
  /** Fraction of matching requests handled at once but answered only after `hangMs` (client timeouts). */
  hangRate?: number;
  hangMs?: number;
  /** Fraction of sync tasks that end failed. */
  syncFailureRate?: number;
  /** Tasks of these kinds on repos whose name matches run until canceled (or released). */
  hold?: { repoPattern: string; kinds: SimTaskKind[] };
  /**
   * Sync tasks on repos whose name matches end `skipped` (a final state of pulpcore's: the task
   * did nothing and created nothing), without running.
   */
  skipSyncsOf?: string;
  /**
   * The next `times` sync tasks on repos whose name matches fail as pulpcore fails the tasks of
   * a worker that died ("Worker <name> has gone missing."); the sync had no effect.
   */
  vanishWorker?: { repoPattern: string; times: number };
}

export interface SimulatorOptions {
  port?: number;
  host?: string;
  /** Seeds task durations and fault draws: same seed, same run. */
  seed?: string;
  durations?: Partial<Record<SimTaskKind, DurationSpec>>;
  /** Pulp workers: tasks beyond this many wait (state waiting). Unlimited by default. */
  workers?: number;
  /** Latency added to every API answer. */
  apiLatencyMs?: number;
  /** Fraction of syncs that find new upstream content (a new version). */
  changeRate?: number;
  /** Repos whose name matches get a package named "bannedexample-<n>" with every new version. */
  bannedRepoPattern?: string;
  /** Repos whose name matches get `packages` packages with their first sync (an EPEL-sized repo). */
  largeRepos?: { repoPattern: string; packages: number };
  faults?: SimulatorFaults;
  /**
   * Updates (PATCH/PUT) of these collections are applied at once and answered 200 with the
   * object; the others answer 202 with a task. Default ['remotes']: what the dev stack's Pulp
   * does (test/simulator/simulatorContract.test.ts compares them).
   */
  immediateUpdates?: ('repositories' | 'remotes' | 'distributions')[];
}

export interface SimTaskRecord {
  href: string;
  kind: SimTaskKind;
  repoName: string | null;
  state: TaskState;
  durationMs: number;
  createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
}

export interface SimulatorStats {
  requests: number;
  injectedErrors: number;
  injectedHangs: number;
  tasksByKind: Partial<Record<SimTaskKind, number>>;
  tasksByState: Partial<Record<TaskState, number>>;
  /** Sync tasks created per repository: more than one per group run is a double sync. */
  syncsByRepo: Record<string, number>;
}

export interface SeedSpec {
  count: number;
  prefix?: string;
  /** Repo types in rotation; `['rpm', 'deb', 'file']` gives a third of each. */
  types?: SimRepoType[];
  feedBase?: string;
}

export interface PulpSimulator {
  /** Origin, e.g. http://127.0.0.1:41234. */
  url: string;
  /** The server's name in pulp_config.yml (host:port). */
  serverName: string;
  seed(spec: SeedSpec): string[];
  setFaults(faults: SimulatorFaults): void;
  /** Lets held tasks finish (normally, after their sampled duration from now). */
  releaseHeld(): void;
  tasks(kind?: SimTaskKind): SimTaskRecord[];
  stats(): SimulatorStats;
  close(): Promise<void>;
}

const TYPE_PATH: Record<SimRepoType, string> = { rpm: 'rpm/rpm', deb: 'deb/apt', file: 'file/file' };
const CONTENT_PATH: Record<SimRepoType, string> = {
  rpm: 'rpm/packages',
  deb: 'deb/packages',
  file: 'file/files',
};
const CONTENT_KEY: Record<SimRepoType, string> = {
  rpm: 'rpm.package',
  deb: 'deb.package',
  file: 'file.file',
};
const API = '/pulp/api/v3/';
const COLLECTIONS = ['repositories', 'remotes', 'distributions', 'publications'] as const;
type Collection = (typeof COLLECTIONS)[number];
const DEFAULT_DURATIONS: Record<SimTaskKind, DurationSpec> = {
  sync: { kind: 'lognormal', medianMs: 2000, sigma: 0.5, maxMs: 20_000 },
  modify: { kind: 'uniform', minMs: 100, maxMs: 400 },
  publish: { kind: 'lognormal', medianMs: 800, sigma: 0.4, maxMs: 8000 },
  update: { kind: 'fixed', ms: 50 },
  create: { kind: 'fixed', ms: 50 },
  delete: { kind: 'fixed', ms: 100 },
  copy: { kind: 'uniform', minMs: 200, maxMs: 600 },
};
const FINAL: ReadonlySet<TaskState> = new Set(['skipped', 'completed', 'failed', 'canceled']);

interface SimObject {
  collection: Collection;
  /** e.g. rpm/rpm, deb/apt, deb/verbatim */
  typePath: string;
  fields: Record<string, unknown>;
}

interface SimContent {
  href: string;
  type: SimRepoType;
  name: string;
}

interface SimVersion {
  href: string;
  number: number;
  repoHref: string;
  content: Map<string, SimContent>;
  added: number;
  removed: number;
}

interface SimTask extends SimTaskRecord {
  uuid: string;
  reserved: string[];
  createdResources: string[];
  error: { description: string } | null;
  timer: NodeJS.Timeout | null;
  held: boolean;
  effect: () => string[];
}

/** A Pulp-style error answer. */
class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: Record<string, unknown>,
  ) {
    super(`HTTP ${status}`);
  }
}

const badRequest = (field: string, reason: string) => new HttpError(400, { [field]: [reason] });
/** As Pulp (pulpcore 3.123) validates a distribution: it serves a repository or a publication. */
function refuseRepositoryAndPublication(fields: Record<string, unknown>) {
  if (fields.repository && fields.publication) {
    throw badRequest(
      'non_field_errors',
      "Only one of the attributes 'repository' and 'publication' may be used simultaneously.",
    );
  }
}
const notFound = () => new HttpError(404, { detail: 'Not found.' });
const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export async function startPulpSimulator(options: SimulatorOptions = {}): Promise<PulpSimulator> {
  const seed = options.seed ?? 'pulp-simulator';
  const durations = { ...DEFAULT_DURATIONS, ...options.durations };
  const workers = options.workers ?? Number.POSITIVE_INFINITY;
  const changeRate = options.changeRate ?? 1;
  const immediateUpdates: readonly Collection[] = options.immediateUpdates ?? ['remotes'];
  const bannedRe = options.bannedRepoPattern ? new RegExp(options.bannedRepoPattern) : null;
  const largeRe = options.largeRepos ? new RegExp(options.largeRepos.repoPattern) : null;
  const faultRandom = seededRandom(`${seed}:faults`);
  let faults: SimulatorFaults = options.faults ?? {};
  let burstLeft = faults.errorBurst ?? 0;

  const objects = new Map<string, SimObject>();
  const versions = new Map<string, SimVersion>();
  const versionsByRepo = new Map<string, SimVersion[]>();
  const content = new Map<string, SimContent>();
  const tasks = new Map<string, SimTask>();
  const live = new Set<SimTask>();
  const waitingQueue: SimTask[] = [];
  let running = 0;
  const perRepoKindCount = new Map<string, number>();
  const stats: SimulatorStats = {
    requests: 0,
    injectedErrors: 0,
    injectedHangs: 0,
    tasksByKind: {},
    tasksByState: {},
    syncsByRepo: {},
  };

  const repoTypeOf = (typePath: string): SimRepoType => {
    const plugin = typePath.split('/')[0];
    if (plugin === 'rpm' || plugin === 'deb' || plugin === 'file') return plugin;
    throw badRequest('type', `unsupported plugin ${typePath}`);
  };

  // ---- objects -------------------------------------------------------------------------------

  function newObject(collection: Collection, typePath: string, body: Record<string, unknown>): SimObject {
    const uuid = randomUUID();
    const href = `${API}${collection}/${typePath}/${uuid}/`;
    const [plugin, type] = typePath.split('/');
    const obj: SimObject = {
      collection,
      typePath,
      fields: {
        ...body,
        pulp_href: href,
        prn: `prn:${plugin}.${type}${collection.slice(0, -1).replace('repositorie', 'repository')}:${uuid}`,
        pulp_created: new Date().toISOString(),
      },
    };
    objects.set(href, obj);
    if (collection === 'repositories') {
      obj.fields.versions_href = `${href}versions/`;
      obj.fields.retain_repo_versions = body.retain_repo_versions ?? null;
      versionsByRepo.set(href, []);
      addVersion(href, new Map(), 0, 0);
    }
    if (collection === 'distributions') {
      obj.fields.base_url = `http://simulator/pulp/content/${String(body.base_path ?? '')}/`;
      obj.fields.publication ??= null;
      obj.fields.repository ??= null;
    }
    return obj;
  }

  function addVersion(repoHref: string, items: Map<string, SimContent>, added: number, removed: number) {
    const list = versionsByRepo.get(repoHref) ?? [];
    const number = list.length === 0 ? 0 : (list[list.length - 1] as SimVersion).number + 1;
    const v: SimVersion = {
      href: `${repoHref}versions/${number}/`,
      number,
      repoHref,
      content: items,
      added,
      removed,
    };
    list.push(v);
    versionsByRepo.set(repoHref, list);
    versions.set(v.href, v);
    return v;
  }

  const latestVersion = (repoHref: string) => {
    const list = versionsByRepo.get(repoHref) ?? [];
    return list[list.length - 1];
  };

  function repoView(obj: SimObject): Record<string, unknown> {
    const href = obj.fields.pulp_href as string;
    return { ...obj.fields, latest_version_href: latestVersion(href)?.href ?? null };
  }

  function versionView(v: SimVersion): Record<string, unknown> {
    const type = repoTypeOf((objects.get(v.repoHref) as SimObject).typePath);
    const key = CONTENT_KEY[type];
    return {
      pulp_href: v.href,
      number: v.number,
      repository: v.repoHref,
      content_summary: {
        added: v.added ? { [key]: { count: v.added, href: '' } } : {},
        removed: v.removed ? { [key]: { count: v.removed, href: '' } } : {},
        present: { [key]: { count: v.content.size, href: '' } },
      },
    };
  }

  const view = (obj: SimObject) => (obj.collection === 'repositories' ? repoView(obj) : { ...obj.fields });

  function requireObject(href: string, collection?: Collection): SimObject {
    const obj = objects.get(href);
    if (!obj || (collection && obj.collection !== collection)) throw notFound();
    return obj;
  }

  function requireVersion(href: unknown, field: string): SimVersion {
    const v = typeof href === 'string' ? versions.get(href) : undefined;
    if (!v) throw badRequest(field, `Invalid hyperlink - Object does not exist: ${String(href)}`);
    return v;
  }

  function newContent(type: SimRepoType, name: string): SimContent {
    const c: SimContent = { href: `${API}content/${CONTENT_PATH[type]}/${randomUUID()}/`, type, name };
    content.set(c.href, c);
    return c;
  }

  // ---- tasks ---------------------------------------------------------------------------------

  function startTask(
    kind: SimTaskKind,
    repoName: string | null,
    reserved: string[],
    effect: () => string[],
  ): SimTask {
    const uuid = randomUUID();
    const countKey = `${repoName ?? ''}:${kind}`;
    const n = (perRepoKindCount.get(countKey) ?? 0) + 1;
    perRepoKindCount.set(countKey, n);
    const hold = faults.hold;
    const task: SimTask = {
      uuid,
      href: `${API}tasks/${uuid}/`,
      kind,
      repoName,
      state: 'waiting',
      durationMs: sampleDuration(durations[kind], `${seed}:${countKey}:${n}`),
      createdAt: Date.now(),
      startedAt: null,
      finishedAt: null,
      reserved,
      createdResources: [],
      error: null,
      timer: null,
      held: Boolean(
        hold && repoName !== null && hold.kinds.includes(kind) && new RegExp(hold.repoPattern).test(repoName),
      ),
      effect,
    };
    tasks.set(task.href, task);
    live.add(task);
    stats.tasksByKind[kind] = (stats.tasksByKind[kind] ?? 0) + 1;
    if (kind === 'sync' && repoName) stats.syncsByRepo[repoName] = (stats.syncsByRepo[repoName] ?? 0) + 1;
    waitingQueue.push(task);
    dispatch();
    return task;
  }

  function dispatch() {
    while (running < workers && waitingQueue.length > 0) {
      const task = waitingQueue.shift() as SimTask;
      if (task.state !== 'waiting') continue;
      if (task.kind === 'sync' && task.repoName !== null && faults.skipSyncsOf) {
        if (new RegExp(faults.skipSyncsOf).test(task.repoName)) {
          task.state = 'skipped';
          settle(task);
          continue;
        }
      }
      running++;
      task.state = 'running';
      task.startedAt = Date.now();
      if (!task.held) scheduleFinish(task, task.durationMs);
    }
  }

  function scheduleFinish(task: SimTask, ms: number) {
    task.timer = setTimeout(() => finish(task), ms);
  }

  function finish(task: SimTask) {
    if (task.state !== 'running') return;
    const vanish = faults.vanishWorker;
    if (
      vanish &&
      vanish.times > 0 &&
      task.kind === 'sync' &&
      task.repoName !== null &&
      new RegExp(vanish.repoPattern).test(task.repoName)
    ) {
      vanish.times--;
      task.state = 'failed';
      task.error = { description: 'Worker 4242@pulp-worker-1 has gone missing.' };
      settle(task);
      return;
    }
    const fails = task.kind === 'sync' && faultRandom() < (faults.syncFailureRate ?? 0);
    if (fails) {
      task.state = 'failed';
      task.error = { description: 'simulated sync failure: upstream answered 502 Bad Gateway' };
    } else {
      try {
        task.createdResources = task.effect();
        task.state = 'completed';
      } catch (err) {
        task.state = 'failed';
        task.error = { description: err instanceof Error ? err.message : String(err) };
      }
    }
    settle(task);
  }

  function settle(task: SimTask) {
    if (task.timer) clearTimeout(task.timer);
    task.timer = null;
    task.finishedAt = Date.now();
    live.delete(task);
    if (task.startedAt !== null) running--;
    dispatch();
  }

  function cancelTask(task: SimTask): void {
    if (FINAL.has(task.state)) {
      throw new HttpError(409, { state: [`The task is already in a final state: ${task.state}`] });
    }
    if (task.state === 'waiting') {
      task.state = 'canceled';
      settle(task);
      return;
    }
    // Pulp's worker notices the cancel between steps: canceling first, canceled shortly after.
    task.state = 'canceling';
    if (task.timer) clearTimeout(task.timer);
    task.timer = setTimeout(() => {
      task.state = 'canceled';
      settle(task);
    }, 50);
  }

  /** Task names as Pulp's plugins give them: Pulp Manager tells kinds of task apart by name. */
  function taskName(t: SimTask): string {
    switch (t.kind) {
      case 'sync':
        return 'simulated.app.tasks.synchronizing.synchronize';
      case 'modify':
        return 'pulpcore.app.tasks.repository.add_and_remove';
      case 'publish':
        return 'simulated.app.tasks.publishing.publish';
      case 'copy':
        return 'simulated.app.tasks.copy.copy_content';
      case 'update':
        return 'pulpcore.app.tasks.base.general_update';
      case 'delete':
        return t.reserved.some((r) => r.includes('/versions/'))
          ? 'pulpcore.app.tasks.repository.delete_version'
          : 'pulpcore.app.tasks.base.general_delete';
      default:
        return `pulpcore.app.tasks.base.general_${t.kind}`;
    }
  }

  function taskView(t: SimTask): Record<string, unknown> {
    return {
      pulp_href: t.href,
      prn: `prn:core.task:${t.uuid}`,
      pulp_created: iso(t.createdAt),
      name: taskName(t),
      state: t.state,
      started_at: iso(t.startedAt),
      finished_at: iso(t.finishedAt),
      error: t.error,
      worker: t.startedAt === null ? null : `${API}workers/simulated/`,
      created_resources: t.createdResources,
      reserved_resources_record: t.reserved,
    };
  }

  const accepted = (task: SimTask) => ({ status: 202, body: { task: task.href } });

  // ---- effects of the task-starting calls ------------------------------------------------------

  function syncRepo(repo: SimObject, body: Record<string, unknown>) {
    const repoHref = repo.fields.pulp_href as string;
    const remoteHref = body.remote ?? repo.fields.remote;
    if (typeof remoteHref !== 'string') throw badRequest('remote', 'A remote must be specified.');
    requireObject(remoteHref, 'remotes');
    const type = repoTypeOf(repo.typePath);
    const name = repo.fields.name as string;
    const task = startTask('sync', name, [repoHref, repo.fields.prn as string, remoteHref], () => {
      const base = latestVersion(repoHref) as SimVersion;
      const changed =
        base.number === 0 || seededRandom(`${seed}:change:${name}:${base.number}`)() < changeRate;
      if (!changed) return [];
      const items = new Map(base.content);
      const added = [newContent(type, `${name}-pkg-${base.number + 1}`)];
      if (base.number === 0 && largeRe?.test(name)) {
        for (let i = 0; i < (options.largeRepos?.packages ?? 0); i++) {
          added.push(newContent(type, `${name}-bulk-${i}`));
        }
      }
      if (bannedRe?.test(name)) added.push(newContent(type, `bannedexample-${base.number + 1}`));
      for (const c of added) items.set(c.href, c);
      return [addVersion(repoHref, items, added.length, 0).href];
    });
    return accepted(task);
  }

  function modifyRepo(repo: SimObject, body: Record<string, unknown>) {
    const repoHref = repo.fields.pulp_href as string;
    const remove = (body.remove_content_units as string[] | undefined) ?? [];
    const add = (body.add_content_units as string[] | undefined) ?? [];
    const base =
      body.base_version === undefined ? undefined : requireVersion(body.base_version, 'base_version');
    const task = startTask(
      'modify',
      repo.fields.name as string,
      [repoHref, repo.fields.prn as string],
      () => {
        const from = base ?? (latestVersion(repoHref) as SimVersion);
        const items = new Map(from.content);
        let removed = 0;
        let added = 0;
        for (const href of remove) if (items.delete(href)) removed++;
        for (const href of add) {
          const c = content.get(href);
          if (c && !items.has(href)) {
            items.set(href, c);
            added++;
          }
        }
        if (removed === 0 && added === 0 && !base) return [];
        return [addVersion(repoHref, items, added, removed).href];
      },
    );
    return accepted(task);
  }

  function publish(typePath: string, body: Record<string, unknown>) {
    const version = requireVersion(body.repository_version, 'repository_version');
    const repo = requireObject(version.repoHref, 'repositories');
    const task = startTask('publish', repo.fields.name as string, [version.repoHref], () => [
      newObject('publications', typePath, {
        repository_version: version.href,
        repository: version.repoHref,
      }).fields.pulp_href as string,
    ]);
    return accepted(task);
  }

  function copy(body: Record<string, unknown>) {
    const config = body.config;
    if (!Array.isArray(config) || config.length === 0) throw badRequest('config', 'This field is required.');
    const steps = config.map((raw, i) => {
      const step = raw as Record<string, unknown>;
      const source = requireVersion(step.source_repo_version, `config[${i}].source_repo_version`);
      const dest = requireObject(String(step.dest_repo), 'repositories');
      return { source, destHref: dest.fields.pulp_href as string, destName: dest.fields.name as string };
    });
    const first = steps[0] as (typeof steps)[number];
    const task = startTask(
      'copy',
      first.destName,
      steps.map((s) => s.destHref),
      () =>
        steps.map((s) => {
          const items = new Map((latestVersion(s.destHref) as SimVersion).content);
          let added = 0;
          for (const [href, c] of s.source.content) {
            if (!items.has(href)) {
              items.set(href, c);
              added++;
            }
          }
          return addVersion(s.destHref, items, added, 0).href;
        }),
    );
    return accepted(task);
  }

  // ---- lists -----------------------------------------------------------------------------------

  const ALWAYS_ALLOWED = new Set(['limit', 'offset', 'fields', 'ordering', 'exclude_fields']);

  function listAnswer(
    url: URL,
    items: Record<string, unknown>[],
    filters: Record<string, (item: Record<string, unknown>, values: string[]) => boolean>,
  ) {
    const params = new Map<string, string[]>();
    for (const [k, v] of url.searchParams) {
      if (!ALWAYS_ALLOWED.has(k) && !filters[k]) throw badRequest('detail', `Invalid Filter: ${k}`);
      // Pulp takes comma-separated lists; clients also repeat the parameter.
      params.set(k, [...(params.get(k) ?? []), ...v.split(',')]);
    }
    let selected = items;
    for (const [k, values] of params) {
      const filter = filters[k];
      if (filter) selected = selected.filter((item) => filter(item, values));
    }
    if (url.searchParams.get('ordering')?.startsWith('-')) selected = [...selected].reverse();
    const limit = Math.min(Number(url.searchParams.get('limit') ?? 100) || 100, 1000);
    const offset = Number(url.searchParams.get('offset') ?? 0) || 0;
    const page = selected.slice(offset, offset + limit);
    const fields = params.get('fields');
    const next = new URL(url);
    next.searchParams.set('offset', String(offset + limit));
    return {
      status: 200,
      body: {
        count: selected.length,
        next: offset + limit < selected.length ? next.toString() : null,
        previous: null,
        results: fields ? page.map((i) => Object.fromEntries(fields.map((f) => [f, i[f]]))) : page,
      },
    };
  }

  const eq = (field: string) => (item: Record<string, unknown>, values: string[]) =>
    values.includes(String(item[field]));
  const objectFilters = {
    name: eq('name'),
    name__in: eq('name'),
    pulp_href__in: eq('pulp_href'),
    base_path: eq('base_path'),
    repository_version: eq('repository_version'),
    repository: eq('repository'),
    name__startswith: (i: Record<string, unknown>, v: string[]) => String(i.name).startsWith(v[0] ?? ''),
  };

  function listObjects(url: URL, collection: Collection, typePath: string | null) {
    const items: Record<string, unknown>[] = [];
    for (const obj of objects.values()) {
      if (obj.collection !== collection) continue;
      if (typePath && obj.typePath !== typePath) continue;
      items.push(view(obj));
    }
    return listAnswer(url, items, objectFilters);
  }

  function listContent(url: URL, type: SimRepoType) {
    const versionHref = url.searchParams.get('repository_version');
    const source = versionHref
      ? requireVersion(versionHref, 'repository_version').content.values()
      : content.values();
    const items: Record<string, unknown>[] = [];
    for (const c of source) {
      if (c.type !== type) continue;
      items.push(
        type === 'deb'
          ? { pulp_href: c.href, package: c.name, version: '1.0' }
          : type === 'rpm'
            ? { pulp_href: c.href, name: c.name, version: '1.0', release: '1', arch: 'noarch' }
            : { pulp_href: c.href, relative_path: c.name },
      );
    }
    return listAnswer(url, items, {
      repository_version: () => true,
      package__iregex: (i, v) => new RegExp(v.join(','), 'i').test(String(i.package)),
      name: eq('name'),
    });
  }

  function listTasks(url: URL) {
    const wantsLiveOnly = url.searchParams.getAll('state__in').join(',').split(',');
    const onlyLive =
      wantsLiveOnly.length > 0 && wantsLiveOnly.every((s) => s === 'waiting' || s === 'running');
    const source = onlyLive ? live : tasks.values();
    const items = [...source].map(taskView);
    return listAnswer(url, items, {
      state: eq('state'),
      state__in: eq('state'),
      name: eq('name'),
      name__contains: (i, v) => String(i.name).includes(v[0] ?? ''),
      pulp_created__gte: (i, v) => String(i.pulp_created) >= (v[0] ?? ''),
      reserved_resources: (i, v) => (i.reserved_resources_record as string[]).some((r) => v.includes(r)),
    });
  }

  // ---- routing -------------------------------------------------------------------------------

  type Answer = { status: number; body: unknown };

  function route(method: string, url: URL, body: Record<string, unknown>): Answer {
    const path = url.pathname;
    if (!path.startsWith(API)) throw notFound();
    const parts = path.slice(API.length).split('/').filter(Boolean);
    const [head] = parts;

    if (head === 'status' && method === 'GET') {
      return {
        status: 200,
        body: {
          versions: [
            { component: 'core', version: '3.123.1', package: 'pulpcore' },
            { component: 'rpm', version: '3.39.4', package: 'pulp-rpm' },
            { component: 'deb', version: '3.11.1', package: 'pulp_deb' },
            { component: 'file', version: '3.123.1', package: 'pulpcore' },
          ],
          online_workers: [{ name: 'simulated', last_heartbeat: new Date().toISOString() }],
          database_connection: { connected: true },
          redis_connection: { connected: false },
          simulator: true,
        },
      };
    }
    if (head === 'tasks') {
      if (parts.length === 1 && method === 'GET') return listTasks(url);
      const task = tasks.get(path);
      if (!task) throw notFound();
      if (method === 'GET') return { status: 200, body: taskView(task) };
      if (method === 'PATCH') {
        if (body.state !== 'canceled') throw badRequest('state', 'Only "canceled" is accepted.');
        cancelTask(task);
        return { status: 200, body: taskView(task) };
      }
      throw new HttpError(405, { detail: `Method "${method}" not allowed.` });
    }
    if (head === 'signing-services' && method === 'GET') {
      const services = [{ pulp_href: `${API}signing-services/simulated/`, name: 'pulp-manager-deb-signing' }];
      return listAnswer(url, services, { name: eq('name') });
    }
    if ((head === 'rpm' || head === 'deb') && parts[1] === 'copy' && method === 'POST') return copy(body);
    if (head === 'content' && parts.length === 3 && method === 'GET') {
      const type = parts[1] as SimRepoType;
      if (CONTENT_PATH[type] !== `${parts[1]}/${parts[2]}`) throw notFound();
      return listContent(url, type);
    }
    if (!COLLECTIONS.includes(head as Collection)) throw notFound();
    const collection = head as Collection;
    if (parts.length === 1 && method === 'GET') return listObjects(url, collection, null);
    const typePath = `${parts[1]}/${parts[2]}`;
    if (parts.length === 3) {
      if (method === 'GET') return listObjects(url, collection, typePath);
      if (method !== 'POST') throw new HttpError(405, { detail: `Method "${method}" not allowed.` });
      if (collection === 'publications') return publish(typePath, body);
      if (typeof body.name !== 'string' || body.name === '')
        throw badRequest('name', 'This field is required.');
      for (const o of objects.values()) {
        if (o.collection === collection && o.typePath === typePath && o.fields.name === body.name) {
          throw badRequest('name', 'This field must be unique.');
        }
      }
      if (collection === 'distributions') {
        refuseRepositoryAndPublication(body);
        const task = startTask('create', body.name, [], () => [
          newObject(collection, typePath, body).fields.pulp_href as string,
        ]);
        return accepted(task);
      }
      return { status: 201, body: view(newObject(collection, typePath, body)) };
    }
    const objHref = `${API}${parts.slice(0, 4).join('/')}/`;
    const obj = requireObject(objHref, collection);
    if (parts.length === 4) {
      const name = obj.fields.name as string;
      if (method === 'GET') return { status: 200, body: view(obj) };
      if (method === 'PATCH' || method === 'PUT') {
        if (collection === 'distributions') refuseRepositoryAndPublication({ ...obj.fields, ...body });
        if (collection !== 'publications' && immediateUpdates.includes(collection)) {
          Object.assign(obj.fields, body);
          return { status: 200, body: view(obj) };
        }
        const task = startTask('update', name, [objHref], () => {
          Object.assign(obj.fields, body);
          return [];
        });
        return accepted(task);
      }
      if (method === 'DELETE') {
        const task = startTask('delete', name, [objHref], () => {
          objects.delete(objHref);
          return [];
        });
        return accepted(task);
      }
    }
    if (collection === 'repositories' && parts.length === 5 && method === 'POST') {
      if (parts[4] === 'sync') return syncRepo(obj, body);
      if (parts[4] === 'modify') return modifyRepo(obj, body);
    }
    if (collection === 'repositories' && parts[4] === 'versions') {
      if (parts.length === 5 && method === 'GET') {
        const list = [...(versionsByRepo.get(objHref) ?? [])].reverse().map(versionView);
        return listAnswer(url, list, { number: eq('number') });
      }
      const v = versions.get(path);
      if (!v) throw notFound();
      if (method === 'GET') return { status: 200, body: versionView(v) };
      if (method === 'DELETE') {
        // The version is in the record only so that the task is named as Pulp names it.
        const task = startTask('delete', obj.fields.name as string, [objHref, v.href], () => {
          const list = versionsByRepo.get(objHref) ?? [];
          versionsByRepo.set(
            objHref,
            list.filter((x) => x !== v),
          );
          versions.delete(v.href);
          return [];
        });
        return accepted(task);
      }
    }
    throw new HttpError(405, { detail: `Method "${method}" not allowed.` });
  }

  // ---- faults and the HTTP server -----------------------------------------------------------------

  function faultFor(method: string, path: string): 'error' | 'hang' | null {
    if (path.startsWith('/_simulator')) return null;
    if (faults.pathPattern && !new RegExp(faults.pathPattern).test(path)) return null;
    if (faults.methods && !faults.methods.includes(method)) return null;
    if (burstLeft > 0) {
      burstLeft--;
      return 'error';
    }
    if (faultRandom() < (faults.errorRate ?? 0)) return 'error';
    if (faultRandom() < (faults.hangRate ?? 0)) return 'hang';
    return null;
  }

  async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    if (chunks.length === 0) return {};
    const text = Buffer.concat(chunks).toString('utf8');
    try {
      return JSON.parse(text) as Record<string, unknown>;
    } catch (err) {
      throw badRequest('detail', `JSON parse error - ${(err as Error).message}`);
    }
  }

  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  function send(res: ServerResponse, status: number, body: unknown) {
    if (res.destroyed) return;
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  }

  function control(method: string, url: URL, body: Record<string, unknown>): Answer {
    const what = url.pathname.slice('/_simulator/'.length);
    if (what === 'stats' && method === 'GET') return { status: 200, body: simulator.stats() };
    if (what === 'tasks' && method === 'GET') {
      const kind = url.searchParams.get('kind') as SimTaskKind | null;
      return { status: 200, body: simulator.tasks(kind ?? undefined) };
    }
    if (what === 'faults' && method === 'POST') {
      simulator.setFaults(body as SimulatorFaults);
      return { status: 200, body: faults };
    }
    if (what === 'seed' && method === 'POST')
      return { status: 200, body: simulator.seed(body as unknown as SeedSpec) };
    if (what === 'release' && method === 'POST') {
      simulator.releaseHeld();
      return { status: 200, body: {} };
    }
    throw notFound();
  }

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const method = (req.method ?? 'GET').toUpperCase();
    const url = new URL(req.url ?? '/', simulator.url);
    try {
      const body = await readJson(req);
      if (url.pathname.startsWith('/_simulator/')) {
        const answer = control(method, url, body);
        send(res, answer.status, answer.body);
        return;
      }
      stats.requests++;
      if (!req.headers.authorization?.startsWith('Basic ')) {
        send(res, 401, { detail: 'Authentication credentials were not provided.' });
        return;
      }
      const fault = faultFor(method, url.pathname);
      if (fault === 'error') {
        stats.injectedErrors++;
        const status = faults.errorStatus ?? 500;
        send(res, status, { detail: `simulated ${status}` });
        return;
      }
      if (options.apiLatencyMs) await sleep(options.apiLatencyMs);
      // A hung call is still carried out, as a slow proxy in front of Pulp would: only the answer is late.
      const answer = route(method, url, body);
      if (fault === 'hang') {
        stats.injectedHangs++;
        await sleep(faults.hangMs ?? 120_000);
      }
      send(res, answer.status, answer.body);
    } catch (err) {
      if (err instanceof HttpError) send(res, err.status, err.body);
      else send(res, 500, { detail: err instanceof Error ? err.message : String(err) });
    }
  }

  const server: Server = createServer((req, res) => {
    void handle(req, res);
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const { port, address } = server.address() as AddressInfo;

  const simulator: PulpSimulator = {
    url: `http://${address}:${port}`,
    serverName: `${address}:${port}`,
    seed(spec) {
      const types = spec.types ?? ['rpm', 'deb', 'file'];
      const prefix = spec.prefix ?? 'ext-sim-';
      const feedBase = spec.feedBase ?? 'https://upstream.example.com';
      const names: string[] = [];
      for (let i = 0; i < spec.count; i++) {
        const type = types[i % types.length] as SimRepoType;
        const name = `${prefix}${String(i).padStart(5, '0')}`;
        const typePath = TYPE_PATH[type];
        const remote = newObject('remotes', typePath, {
          name,
          url: `${feedBase}/${name}/`,
          policy: 'immediate',
          tls_validation: true,
          ...(type === 'deb' ? { distributions: 'stable', components: 'main', architectures: 'amd64' } : {}),
        });
        newObject('repositories', typePath, { name, remote: remote.fields.pulp_href });
        newObject('distributions', typePath, { name, base_path: name });
        names.push(name);
      }
      return names;
    },
    setFaults(next) {
      faults = next;
      burstLeft = next.errorBurst ?? 0;
    },
    releaseHeld() {
      faults = { ...faults, hold: undefined };
      for (const task of live) {
        if (task.held && task.state === 'running') {
          task.held = false;
          scheduleFinish(task, task.durationMs);
        }
      }
    },
    tasks(kind) {
      const out: SimTaskRecord[] = [];
      for (const t of tasks.values()) {
        if (kind && t.kind !== kind) continue;
        out.push({
          href: t.href,
          kind: t.kind,
          repoName: t.repoName,
          state: t.state,
          durationMs: t.durationMs,
          createdAt: t.createdAt,
          startedAt: t.startedAt,
          finishedAt: t.finishedAt,
        });
      }
      return out;
    },
    stats() {
      const byState: Partial<Record<TaskState, number>> = {};
      for (const t of tasks.values()) byState[t.state] = (byState[t.state] ?? 0) + 1;
      stats.tasksByState = byState;
      return structuredClone(stats);
    },
    async close() {
      for (const t of live) if (t.timer) clearTimeout(t.timer);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return simulator;
}
