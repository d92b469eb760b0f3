import { z } from 'zod';
import { regexField } from './fields.js';

/**
 * config.ini, with the original system's sections and keys; [redis] is replaced by
 * [temporal]. Values arrive as text, read with configparser's rules (config/pythonIni.ts);
 * sections and keys not listed here are accepted with a notice (config/iniConfigFile.ts).
 */

const iniBool = z.union([z.boolean(), z.string()]).transform((v, ctx) => {
  if (typeof v === 'boolean') return v;
  const s = v.trim().toLowerCase();
  if (['true', 'yes', '1', 'on'].includes(s)) return true;
  if (['false', 'no', '0', 'off'].includes(s)) return false;
  ctx.addIssue({ code: 'custom', message: `expected true or false, got "${v}"` });
  return z.NEVER;
});

const iniNumber = z.union([z.number(), z.string()]).transform((v, ctx) => {
  const n = typeof v === 'number' ? v : Number(v.trim());
  if (typeof v === 'string' && v.trim() === '') {
    ctx.addIssue({ code: 'custom', message: 'expected a number, got an empty value' });
    return z.NEVER;
  }
  if (!Number.isFinite(n) || n <= 0) {
    ctx.addIssue({ code: 'custom', message: `expected a positive number, got "${v}"` });
    return z.NEVER;
  }
  return n;
});

const iniInt = iniNumber.refine((n) => Number.isInteger(n), 'expected a whole number');

/** Comma separated list, as the original wrote ldap_servers and internal_domains. */
const iniList = z.string().transform((v) =>
  v
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== ''),
);

const caSection = z.strictObject({ root_ca_file_path: z.string().optional() });

const authSection = z.strictObject({
  // The original accepted any method and refused logins unless it was ldap; its example uses none.
  method: z.enum(['ldap', 'none']).default('ldap'),
  use_ssl: iniBool.default(true),
  ldap_servers: iniList.default([]),
  base_dn: z.string().optional(),
  default_domain: z.string().optional(),
  // Extension for directories that are not Active Directory (OpenLDAP): how to build the bind
  // DN from the login name, e.g. uid={username},ou=people,dc=example,dc=com.
  bind_dn_template: z.string().includes('{username}', { message: 'must contain {username}' }).optional(),
  user_search_attribute: z.string().default('sAMAccountName'),
  jwt_algorithm: z.enum(['HS256', 'HS384', 'HS512']).default('HS256'),
  jwt_token_lifetime_mins: iniInt.default(480),
  admin_group: z.string().optional(),
  require_jwt_auth: iniBool.default(true),
  // Addition: failed logins per user name and per client address in a window, beyond which
  // login answers 429 without asking LDAP (no Active Directory lockout by guessing).
  login_max_failures_per_user: iniInt.default(30),
  login_max_failures_per_address: iniInt.default(30),
  login_failure_window_secs: iniInt.default(60),
});

const pulpSection = z.strictObject({
  deb_signing_service: z.string().optional(),
  banned_package_regex: regexField.optional(),
  internal_domains: iniList.default([]),
  git_repo_config: z.string().optional(),
  git_repo_config_dir: z.string().default('repo_config'),
  local_repo_config_dir: z.string().optional(),
  password: z.string().optional(),
  // The original's README says internal_package_prefix; its code reads internal_repo_prefix.
  internal_package_prefix: z.string().optional(),
  internal_repo_prefix: z.string().optional(),
  external_repo_prefix: z.string().default('ext-'),
  package_name_replacement_pattern: regexField.optional(),
  package_name_replacement_rule: z.string().optional(),
  remote_tls_validation: iniBool.default(true),
  use_https_for_sync: iniBool.default(true),
  // Addition: the scheme of the Pulp API itself (servers are named host[:port]).
  use_https_for_api: iniBool.default(true),
  // Addition: seconds one Pulp API call may take before it counts as failed (and is retried if
  // idempotent); Pulp answers API calls fast, long work runs in tasks.
  api_request_timeout: iniNumber.refine((n) => n > 0, 'must be greater than 0').default(60),
});

const temporalSection = z.strictObject({
  address: z.string().default('localhost:7233'),
  namespace: z.string().default('default'),
  task_queue: z.string().default('pulp-manager'),
  tls_cert_path: z.string().optional(),
  tls_key_path: z.string().optional(),
  tls_ca_path: z.string().optional(),
  // A file holding a Temporal Cloud API key (sent as a bearer token, over TLS).
  api_key_path: z.string().optional(),
  // How far back a schedule catches up runs missed while the server was down.
  schedule_catchup_window: z.string().default('1h'),
});

const remotesSection = z.strictObject({
  sock_connect_timeout: iniNumber.default(120),
  sock_read_timeout: iniNumber.default(600),
});

const pagingSection = z
  .strictObject({
    default_page_size: iniInt.default(50),
    max_page_size: iniInt.default(20000),
    // Server-side limit of each list statement (MariaDB max_statement_time).
    list_statement_timeout_ms: iniInt.default(500),
    // How long a list's total and deep-page boundaries are reused (may lag writes by that much).
    total_cache_seconds: iniInt.default(5),
  })
  .refine((p) => p.default_page_size <= p.max_page_size, {
    path: ['default_page_size'],
    message: 'must not be larger than max_page_size',
  });

const vaultSection = z.strictObject({
  vault_addr: z.string().optional(),
  repo_secret_namespace: z.string().optional(),
});

const databaseSection = z.strictObject({
  host: z.string().optional(),
  port: iniInt.optional(),
  user: z.string().optional(),
  password: z.string().optional(),
  db_name: z.string().optional(),
});

// Addition: how the exporter keeps its answer ready (metrics/readyExposition.ts). A change
// probe runs every refresh_check_interval_secs; the text is rebuilt when the probe sees a
// change (at most every refresh_min_interval_secs) or when it is refresh_max_age_secs old.
const exporterSection = z
  .strictObject({
    refresh_check_interval_secs: iniNumber.default(2),
    refresh_min_interval_secs: iniNumber.default(5),
    refresh_max_age_secs: iniNumber.default(15),
    per_repo_series: iniBool.default(true),
  })
  .refine((e) => e.refresh_min_interval_secs <= e.refresh_max_age_secs, {
    path: ['refresh_min_interval_secs'],
    message: 'must not be larger than refresh_max_age_secs',
  });

/** The sections this design reads, each with its keys. */
export const iniSectionSchemas = {
  ca: caSection,
  auth: authSection,
  pulp: pulpSection,
  temporal: temporalSection,
  remotes: remotesSection,
  paging: pagingSection,
  vault: vaultSection,
  database: databaseSection,
  exporter: exporterSection,
} as const;

export type IniSectionName = keyof typeof iniSectionSchemas;

export const iniConfigSchema = z.strictObject({
  ca: caSection.default({}),
  auth: authSection.default(authSection.parse({})),
  pulp: pulpSection.default(pulpSection.parse({})),
  temporal: temporalSection.default(temporalSection.parse({})),
  remotes: remotesSection.default(remotesSection.parse({})),
  paging: pagingSection.default(pagingSection.parse({})),
  vault: vaultSection.default({}),
  database: databaseSection.default({}),
  exporter: exporterSection.default(exporterSection.parse({})),
});

export type IniConfig = z.output<typeof iniConfigSchema>;
