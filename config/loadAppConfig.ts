import { readFile } from 'node:fs/promises';
import { parse as parseIni } from 'ini';
import type { DatabaseSettings } from '../db/client.js';
import { ConfigError, type ConfigIssue } from './errors.js';
import { type IniConfig, iniConfigSchema } from './iniConfigSchema.js';
import { toConfigIssues } from './zodIssues.js';

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
  /** `[pulp] password` replaces Vault when PULP_MANAGER_LOCAL_AUTH=true (local and test set-ups). */
  localAuth: boolean;
}

/** Empty INI values (`key=`) mean "not set", as in the original. */
function dropEmpty(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([, v]) => v !== '')
      .map(([k, v]) => [k, dropEmpty(v)]),
  );
}

export function parseIniConfig(text: string, file: string): IniConfig {
  const result = iniConfigSchema.safeParse(dropEmpty(parseIni(text)));
  if (!result.success) throw new ConfigError(toConfigIssues(file, result.error));
  return result.data;
}

type Env = Record<string, string | undefined>;

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

export async function loadAppConfig(env: Env = process.env): Promise<AppConfig> {
  const configPath = env.PULP_MANAGER_CONFIG_PATH ?? DEFAULT_CONFIG_PATH;
  let text: string;
  try {
    text = await readFile(configPath, 'utf8');
  } catch (err) {
    throw new ConfigError([
      { file: configPath, path: '', message: `cannot read file: ${(err as Error).message}` },
    ]);
  }
  const ini = parseIniConfig(text, configPath);
  const localAuth = env.PULP_MANAGER_LOCAL_AUTH?.toLowerCase() === 'true';
  if (localAuth && ini.pulp.password === undefined) {
    throw new ConfigError([
      { file: configPath, path: 'pulp.password', message: 'required when PULP_MANAGER_LOCAL_AUTH=true' },
    ]);
  }
  return {
    configPath,
    pulpConfigPath: env.PULP_SYNC_CONFIG_PATH ?? DEFAULT_PULP_CONFIG_PATH,
    ini,
    database: databaseSettings(ini, env, configPath),
    jwtSecret: env.JWT_SECRET,
    localAuth,
  };
}
