import { readFile } from 'node:fs/promises';
import type { DatabaseSettings } from '../db/client.js';
import { ConfigError, type ConfigIssue, type ConfigNotice, formatIssue } from './errors.js';
import { checkIniConfig, parseIniConfig } from './iniConfigFile.js';
import type { IniConfig } from './iniConfigSchema.js';

export { parseIniConfig };

export const DEFAULT_CONFIG_PATH = '/etc/pulp_manager/config.ini';
export const DEFAULT_PULP_CONFIG_PATH = '/etc/pulp_manager/pulp_config.yml';

export type { DatabaseSettings };

export interface AppConfig {
  configPath: string;
  pulpConfigPath: string;
  ini: IniConfig;
  database: DatabaseSettings;
  /** Needed by the API only; checked where it is used. */
  jwtSecret: string | undefined;
  /**
   * `[pulp] password` replaces Vault when PULP_MANAGER_LOCAL_AUTH=true or, as in the original,
   * Is_local=true (local and test set-ups).
   */
  localAuth: boolean;
  /** What was accepted but is not used as written; logged once at load. */
  notices?: readonly ConfigNotice[];
}

type Env = Record<string, string | undefined>;

/**
 * The original's environment switches, applied to config.ini as it did: PULP_MANAGER_CA_FILE
 * replaces `[ca] root_ca_file_path` (the CA given to remotes in internal domains); Is_local=true
 * means password logins to Pulp (`[pulp] password`, no Vault) over http.
 */
export function applyOriginalEnvironment(
  ini: IniConfig,
  env: Env,
  explicitApiScheme: boolean,
): { ini: IniConfig; isLocal: boolean; notices: ConfigNotice[] } {
  const notices: ConfigNotice[] = [];
  let result = ini;
  const caFile = env.PULP_MANAGER_CA_FILE;
  if (caFile) {
    result = { ...result, ca: { ...result.ca, root_ca_file_path: caFile } };
    notices.push({
      file: 'environment',
      path: 'PULP_MANAGER_CA_FILE',
      message: `${caFile} is the root CA for internal remotes (and LDAPS), instead of [ca] root_ca_file_path, as in the original`,
    });
  }
  const isLocal = env.Is_local?.toLowerCase() === 'true';
  if (isLocal) {
    const http = !explicitApiScheme;
    if (http) result = { ...result, pulp: { ...result.pulp, use_https_for_api: false } };
    notices.push({
      file: 'environment',
      path: 'Is_local',
      message: `true: Pulp logins use [pulp] password instead of Vault${http ? ', Pulp APIs are called over http' : ''}, as in the original`,
    });
  }
  return { ini: result, isLocal, notices };
}

/** Secrets and connection details come from the environment and win over config.ini. */
function databaseSettings(ini: IniConfig, env: Env, file: string): DatabaseSettings {
  const pick = (envKey: string, iniValue: string | number | undefined) => env[envKey] ?? iniValue;
  const host = pick('DB_HOSTNAME', ini.database.host);
  const user = pick('DB_USER', ini.database.user);
  const password = pick('DB_PASSWORD', ini.database.password);
  const database = pick('DB_NAME', ini.database.db_name);
  const port = Number(pick('DB_PORT', ini.database.port) ?? 3306);
  const issues: ConfigIssue[] = [];
  const missing = (key: string, envKey: string) =>
    issues.push({ file, path: `database.${key}`, message: `not set: set ${envKey} or [database] ${key}` });
  if (host === undefined) missing('host', 'DB_HOSTNAME');
  if (user === undefined) missing('user', 'DB_USER');
  if (password === undefined) missing('password', 'DB_PASSWORD');
  if (database === undefined) missing('db_name', 'DB_NAME');
  if (!Number.isInteger(port) || port <= 0) {
    issues.push({
      file,
      path: 'database.port',
      message: `invalid port "${pick('DB_PORT', ini.database.port)}"`,
    });
  }
  if (issues.length > 0) throw new ConfigError(issues);
  return {
    host: String(host),
    user: String(user),
    password: String(password),
    database: String(database),
    port,
  };
}

export async function loadAppConfig(
  env: Env = process.env,
  log: (line: string) => void = (line) => console.warn(line),
): Promise<AppConfig> {
  const configPath = env.PULP_MANAGER_CONFIG_PATH ?? DEFAULT_CONFIG_PATH;
  let text: string;
  try {
    text = await readFile(configPath, 'utf8');
  } catch (err) {
    throw new ConfigError([
      { file: configPath, path: '', message: `cannot read file: ${(err as Error).message}` },
    ]);
  }
  const check = checkIniConfig(text, configPath);
  if (!check.ini) throw new ConfigError(check.issues);
  const explicitApiScheme = check.written.has('pulp.use_https_for_api');
  const original = applyOriginalEnvironment(check.ini, env, explicitApiScheme);
  const ini = original.ini;
  const localAuth = env.PULP_MANAGER_LOCAL_AUTH?.toLowerCase() === 'true' || original.isLocal;
  if (localAuth && ini.pulp.password === undefined) {
    throw new ConfigError([
      {
        file: configPath,
        path: 'pulp.password',
        message: 'required when PULP_MANAGER_LOCAL_AUTH=true or Is_local=true',
      },
    ]);
  }
  const notices = [...check.notices, ...original.notices];
  // Once per process start: every command loads the config once.
  for (const n of notices) log(`config notice: ${formatIssue(n)}`);
  return {
    configPath,
    pulpConfigPath: env.PULP_SYNC_CONFIG_PATH ?? DEFAULT_PULP_CONFIG_PATH,
    ini,
    database: databaseSettings(ini, env, configPath),
    jwtSecret: env.JWT_SECRET,
    localAuth,
    notices,
  };
}
