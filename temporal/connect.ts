import { readFile } from 'node:fs/promises';
import { Client, Connection, type ConnectionOptions } from '@temporalio/client';
import type { IniConfig } from '../config/iniConfigSchema.js';
import { explainConnectFailure } from './connectionError.js';

type TemporalSettings = IniConfig['temporal'];

/** TLS for both the client and the worker's native connection, from [temporal]. */
export async function temporalTlsOptions(t: TemporalSettings): Promise<ConnectionOptions['tls']> {
  if (!t.tls_cert_path && !t.tls_ca_path) return undefined;
  return {
    serverRootCACertificate: t.tls_ca_path ? await readFile(t.tls_ca_path) : undefined,
    clientCertPair:
      t.tls_cert_path && t.tls_key_path
        ? { crt: await readFile(t.tls_cert_path), key: await readFile(t.tls_key_path) }
        : undefined,
  };
}

/**
 * Address, TLS and API key of both connections (client and worker). An API key (Temporal Cloud)
 * is read from [temporal] api_key_path, a file so that it comes from a mounted secret, never the
 * config text; it implies TLS with the system CAs unless tls_ca_path says otherwise.
 */
export async function temporalConnectionOptions(
  t: TemporalSettings,
): Promise<{ address: string; tls: ConnectionOptions['tls']; apiKey?: string }> {
  const tls = await temporalTlsOptions(t);
  if (!t.api_key_path) return { address: t.address, tls };
  const apiKey = (await readFile(t.api_key_path, 'utf8')).trim();
  if (apiKey === '') throw new Error(`[temporal] api_key_path: ${t.api_key_path} is empty`);
  return { address: t.address, tls: tls ?? true, apiKey };
}

/** A Temporal client for the API, the CLI and the schedule reconciler. */
export async function connectTemporalClient(t: TemporalSettings): Promise<Client> {
  const options = await temporalConnectionOptions(t);
  let connection: Connection;
  try {
    connection = await Connection.connect(options);
  } catch (err) {
    throw await explainConnectFailure(t, err);
  }
  return new Client({ connection, namespace: t.namespace });
}
