import { and, eq, inArray } from 'drizzle-orm';
import type { PulpConfig } from '../config/pulpConfigSchema.js';
import type { Database } from './client.js';
import { pulp_server_repo_groups, pulp_servers, repo_groups } from './schema.js';

type Tx = Parameters<Parameters<Database['transaction']>[0]>[0];

/**
 * Makes the servers, repo groups and their links in the database equal to pulp_config.yml, in
 * one transaction. Returns one line per change; with `dryRun` the transaction is rolled back,
 * so the lines say what would change.
 */
export async function applyFleetConfig(
  db: Database,
  cfg: PulpConfig,
  opts: { dryRun?: boolean } = {},
): Promise<string[]> {
  const changes: string[] = [];
  const rollback = new Error('dry run');
  try {
    await db.transaction(async (tx) => {
      await applyInTransaction(tx, cfg, changes);
      if (opts.dryRun) throw rollback;
    });
  } catch (err) {
    if (err !== rollback) throw err;
  }
  return changes;
}

const linkIs = (serverId: number, groupId: number) =>
  and(
    eq(pulp_server_repo_groups.pulp_server_id, serverId),
    eq(pulp_server_repo_groups.repo_group_id, groupId),
  );

function differs(row: Record<string, unknown>, wanted: Record<string, unknown>): string[] {
  return Object.keys(wanted).filter((k) => (row[k] ?? null) !== (wanted[k] ?? null));
}

async function applyInTransaction(tx: Tx, cfg: PulpConfig, changes: string[]): Promise<void> {
  // Servers
  const servers = await tx.select().from(pulp_servers);
  const serverIds = new Map(servers.map((s) => [s.name, s.id]));
  for (const [name, s] of Object.entries(cfg.pulp_servers)) {
    const cred = cfg.credentials[s.credentials ?? ''];
    const reg = s.repo_config_registration;
    const wanted = {
      username: cred?.username ?? '',
      vault_service_account_mount: cred?.vault_service_account_mount ?? null,
      snapshot_supported: s.snapshot_support !== undefined,
      max_concurrent_snapshots: s.snapshot_support?.max_concurrent_snapshots ?? null,
      repo_config_registration_schedule: reg?.schedule ?? null,
      repo_config_registration_max_runtime: reg?.max_runtime.text ?? null,
      repo_config_registration_regex_include: reg?.regex_include ?? null,
      repo_config_registration_regex_exclude: reg?.regex_exclude ?? null,
    };
    const row = servers.find((r) => r.name === name);
    if (!row) {
      const [res] = await tx.insert(pulp_servers).values({ name, ...wanted });
      serverIds.set(name, res.insertId);
      changes.push(`server add ${name}`);
    } else {
      const changed = differs(row, wanted);
      if (changed.length > 0) {
        await tx.update(pulp_servers).set(wanted).where(eq(pulp_servers.id, row.id));
        changes.push(`server update ${name} (${changed.join(', ')})`);
      }
    }
  }

  // Repo groups
  const groups = await tx.select().from(repo_groups);
  const groupIds = new Map(groups.map((g) => [g.name, g.id]));
  for (const [name, g] of Object.entries(cfg.repo_groups)) {
    const wanted = { regex_include: g.regex_include ?? null, regex_exclude: g.regex_exclude ?? null };
    const row = groups.find((r) => r.name === name);
    if (!row) {
      const [res] = await tx.insert(repo_groups).values({ name, ...wanted });
      groupIds.set(name, res.insertId);
      changes.push(`repo group add ${name}`);
    } else {
      const changed = differs(row, wanted);
      if (changed.length > 0) {
        await tx.update(repo_groups).set(wanted).where(eq(repo_groups.id, row.id));
        changes.push(`repo group update ${name} (${changed.join(', ')})`);
      }
    }
  }

  // Links, before any server is removed: a server still named as pulp_master cannot go.
  const links = await tx.select().from(pulp_server_repo_groups);
  const nameOfServer = new Map([...serverIds].map(([n, id]) => [id, n]));
  const nameOfGroup = new Map([...groupIds].map(([n, id]) => [id, n]));
  const wantedKeys = new Set<string>();
  for (const [serverName, s] of Object.entries(cfg.pulp_servers)) {
    for (const [groupName, link] of Object.entries(s.repo_groups)) {
      const serverId = serverIds.get(serverName) as number;
      const groupId = groupIds.get(groupName) as number;
      wantedKeys.add(`${serverId}/${groupId}`);
      const wanted = {
        schedule: link.schedule ?? null,
        max_concurrent_syncs: link.max_concurrent_syncs,
        max_runtime: link.max_runtime.text,
        pulp_master_id: link.pulp_master ? (serverIds.get(link.pulp_master) ?? null) : null,
        deb_publish_mode: link.deb_publish_mode,
      };
      const row = links.find((l) => l.pulp_server_id === serverId && l.repo_group_id === groupId);
      if (!row) {
        await tx
          .insert(pulp_server_repo_groups)
          .values({ pulp_server_id: serverId, repo_group_id: groupId, ...wanted });
        changes.push(`link add ${serverName} → ${groupName}`);
      } else {
        const changed = differs(row, wanted);
        if (changed.length > 0) {
          await tx.update(pulp_server_repo_groups).set(wanted).where(linkIs(serverId, groupId));
          changes.push(`link update ${serverName} → ${groupName} (${changed.join(', ')})`);
        }
      }
    }
  }
  for (const l of links) {
    if (wantedKeys.has(`${l.pulp_server_id}/${l.repo_group_id}`)) continue;
    await tx.delete(pulp_server_repo_groups).where(linkIs(l.pulp_server_id, l.repo_group_id));
    changes.push(`link remove ${nameOfServer.get(l.pulp_server_id)} → ${nameOfGroup.get(l.repo_group_id)}`);
  }

  const goneServers = servers.filter((s) => !(s.name in cfg.pulp_servers));
  if (goneServers.length > 0) {
    await tx.delete(pulp_servers).where(
      inArray(
        pulp_servers.id,
        goneServers.map((s) => s.id),
      ),
    );
    for (const s of goneServers) changes.push(`server remove ${s.name}`);
  }
  const goneGroups = groups.filter((g) => !(g.name in cfg.repo_groups));
  if (goneGroups.length > 0) {
    await tx.delete(repo_groups).where(
      inArray(
        repo_groups.id,
        goneGroups.map((g) => g.id),
      ),
    );
    for (const g of goneGroups) changes.push(`repo group remove ${g.name}`);
  }
}
