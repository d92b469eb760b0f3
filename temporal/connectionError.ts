import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type { IniConfig } from '../config/iniConfigSchema.js';

type TemporalSettings = IniConfig['temporal'];

/**
 * Pulp Manager could not connect to Temporal. The SDK only says "Failed to connect before the
 * deadline", whatever the reason; this names the setting to fix ([temporal] address or a tls_*
 * path) and what the server or the handshake said.
 */
export class TemporalConnectionError extends Error {
  readonly code = 'TEMPORAL_UNREACHABLE';

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TemporalConnectionError';
  }
}

const errText = (err: unknown) => (err instanceof Error ? err.message : String(err));

/** host and port of [temporal] address (`host:port`, `[v6]:port`). */
function hostPort(address: string): { host: string; port: number } {
  const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(address.trim());
  return m?.[1] && m[2] ? { host: m[1], port: Number(m[2]) } : { host: address, port: 7233 };
}

type ProbeOutcome = { ok: true } | { ok: false; code: string; message: string };

/**
 * One TLS handshake with the configured material, then a short wait: with TLS 1.3 a server that
 * rejects the client certificate says so in an alert right after the handshake.
 */
async function probeTls(t: TemporalSettings, host: string, port: number): Promise<ProbeOutcome> {
  const [ca, cert, key] = await Promise.all([
    t.tls_ca_path ? readFile(t.tls_ca_path) : undefined,
    t.tls_cert_path ? readFile(t.tls_cert_path) : undefined,
    t.tls_key_path ? readFile(t.tls_key_path) : undefined,
  ]);
  return new Promise<ProbeOutcome>((resolve) => {
    const socket = tlsConnect({
      host,
      port,
      ca,
      cert,
      key,
      servername: isIP(host) ? undefined : host,
      ALPNProtocols: ['h2'],
    });
    let settled = false;
    const done = (outcome: ProbeOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(outcome);
    };
    const timer = setTimeout(() => done({ ok: true }), 5000);
    socket.once('secureConnect', () => {
      setTimeout(() => done({ ok: true }), 1500);
    });
    socket.once('error', (err: NodeJS.ErrnoException) =>
      done({ ok: false, code: err.code ?? 'ERROR', message: err.message }),
    );
    socket.once('close', () => done({ ok: true }));
  });
}

async function certSummary(path: string): Promise<string> {
  try {
    const cert = new X509Certificate(await readFile(path));
    return `subject "${cert.subject.replace(/\n/g, ', ')}", issuer "${cert.issuer.replace(/\n/g, ', ')}"`;
  } catch (err) {
    return `unreadable: ${errText(err)}`;
  }
}

/** Turns a failed Connection.connect / NativeConnection.connect into a TemporalConnectionError. */
export async function explainConnectFailure(
  t: TemporalSettings,
  err: unknown,
): Promise<TemporalConnectionError> {
  const where = `cannot connect to Temporal at ${t.address} ([temporal] address, namespace ${t.namespace})`;
  const usesTls = Boolean(t.tls_cert_path || t.tls_ca_path || t.api_key_path);
  if (!usesTls) {
    return new TemporalConnectionError(`${where}: ${errText(err)}`, { cause: err });
  }
  const { host, port } = hostPort(t.address);
  let probe: ProbeOutcome;
  try {
    probe = await probeTls(t, host, port);
  } catch (probeErr) {
    return new TemporalConnectionError(
      `${where}: ${errText(err)}; the TLS files of [temporal] could not be read: ${errText(probeErr)}`,
      { cause: err },
    );
  }
  if (probe.ok) return new TemporalConnectionError(`${where} over TLS: ${errText(err)}`, { cause: err });
  if (probe.code === 'ECONNREFUSED') {
    return new TemporalConnectionError(`${where}: nothing listens there (${probe.message})`, { cause: err });
  }
  if (/ALERT/i.test(probe.code) || /alert/i.test(probe.message)) {
    const cert = t.tls_cert_path
      ? `[temporal] tls_cert_path ${t.tls_cert_path} (${await certSummary(t.tls_cert_path)})`
      : 'no client certificate ([temporal] tls_cert_path is not set)';
    return new TemporalConnectionError(
      `${where}: the server refused the client certificate: ${cert} is not accepted by the server, ` +
        `which requires a client certificate signed by a CA it trusts (TLS: ${probe.message.trim()})`,
      { cause: err },
    );
  }
  if (/CERT|SELF_SIGNED|UNABLE_TO|HOSTNAME|ERR_TLS/.test(probe.code)) {
    return new TemporalConnectionError(
      `${where}: the server's certificate is not trusted: ${probe.message} ` +
        `(checked against [temporal] tls_ca_path ${t.tls_ca_path ?? '(not set: the system CAs)'})`,
      { cause: err },
    );
  }
  return new TemporalConnectionError(`${where} over TLS: ${probe.message} (SDK: ${errText(err)})`, {
    cause: err,
  });
}
