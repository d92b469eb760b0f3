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

/** A Temporal client for the API, the CLI and the schedule reconciler. */
export async function connectTemporalClient(t: TemporalSettings): Promise<Client> {
  const tls = await temporalTlsOptions(t);
  let connection: Connection;
  try {
    connection = await Connection.connect({ address: t.address, tls });
  } catch (err) {
    throw await explainConnectFailure(t, err);
  }
  return new Client({ connection, namespace: t.namespace });
}
