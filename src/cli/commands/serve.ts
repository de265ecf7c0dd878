import { constants } from 'node:fs';
import { access, readdir, readFile, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { loadServeConfig } from '../../config/index.js';
import { PortcullisError } from '../../errors/index.js';
import { EXIT, type CliIo } from '../io.js';
import { startWebhook } from '../serve.js';

export interface ServeCommandOptions {
  readonly policies?: string;
  readonly kubernetes?: boolean;
  readonly kubeconfig?: string;
  readonly port?: string;
  readonly host?: string;
  readonly tlsCert?: string;
  readonly tlsKey?: string;
  readonly devCertDir?: string;
  readonly config?: string;
}

function port(value: string | undefined): number {
  if (value === undefined) return 8443;
  const n = Number(value);
  // 0 asks the system for a free port (the listening line names it).
  if (!/^\d+$/.test(value) || n > 65535)
    throw new PortcullisError('ERR_INPUT_INVALID', `--port must be 0..65535, got "${value}"`);
  return n;
}

/** A serving certificate or key that cannot be used ends start-up with ERR_TLS_FILE and what to do. */
async function checkTlsFile(flag: string, file: string): Promise<void> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (cause) {
    const why =
      (cause as NodeJS.ErrnoException).code === 'ENOENT'
        ? 'does not exist'
        : (cause as NodeJS.ErrnoException).code === 'EACCES'
          ? 'is not readable by this user'
          : (cause as Error).message;
    throw new PortcullisError(
      'ERR_TLS_FILE',
      `${flag} ${file} ${why}: give the path of a PEM file this user can read, or leave out --tls-cert and --tls-key for a development certificate`,
      { cause },
    );
  }
  if (!text.includes('-----BEGIN '))
    throw new PortcullisError(
      'ERR_TLS_FILE',
      `${flag} ${file} is not PEM: give the PEM ${flag === '--tls-key' ? 'private key' : 'certificate (chain)'}`,
    );
}

/** The policy directory must exist, be a directory and be listable. */
async function checkPolicyDirectory(dir: string): Promise<void> {
  const fail = (why: string, cause?: unknown): PortcullisError =>
    new PortcullisError(
      'ERR_POLICY_DIR_UNREADABLE',
      `--policies ${dir} ${why}: create it, or fix its permissions so this user can read and list it`,
      cause === undefined ? {} : { cause },
    );
  let info;
  try {
    info = await stat(dir);
  } catch (cause) {
    throw fail(
      (cause as NodeJS.ErrnoException).code === 'ENOENT'
        ? 'does not exist'
        : `cannot be read (${(cause as NodeJS.ErrnoException).code ?? (cause as Error).message})`,
      cause,
    );
  }
  if (!info.isDirectory()) throw fail('is not a directory');
  try {
    await access(dir, constants.R_OK | constants.X_OK);
    await readdir(dir);
  } catch (cause) {
    throw fail(`cannot be listed (${(cause as NodeJS.ErrnoException).code ?? (cause as Error).message})`, cause);
  }
}

/** What went wrong in start-up, as one actionable line with its own code. */
function startupError(
  error: unknown,
  opts: { port: number; host: string; tlsCert?: string; tlsKey?: string },
): unknown {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const where = `${opts.host}:${opts.port}`;
  if (code === 'EADDRINUSE')
    return new PortcullisError(
      'ERR_PORT_IN_USE',
      `${where} is already in use: stop the process listening there, or start serve with another --port`,
      { cause: error },
    );
  if (code === 'EACCES' && (error as { syscall?: string }).syscall === 'listen') {
    return new PortcullisError(
      'ERR_PORT_IN_USE',
      `listening on ${where} is not permitted for this user: use a port above 1023, or grant the capability to bind it`,
      { cause: error },
    );
  }
  if (code === 'EADDRNOTAVAIL')
    return new PortcullisError(
      'ERR_PORT_IN_USE',
      `${opts.host} is not an address of this machine: give --host an address it has (or 0.0.0.0)`,
      { cause: error },
    );
  if ((code === 'ENOENT' || code === 'EACCES') && opts.tlsCert !== undefined) {
    return new PortcullisError(
      'ERR_TLS_FILE',
      `cannot read the serving certificate or key (${(error as Error).message}): check --tls-cert and --tls-key`,
      { cause: error },
    );
  }
  return error;
}

/**
 * Where the server can be reached, for the start-up line. A wildcard address is reachable from other
 * machines too, so it is named beside the loopback URL rather than hidden behind it.
 */
export function listeningAt(url: string, host: string): string {
  return host === '0.0.0.0' || host === '::' ? `${url} and every other address of this machine (--host ${host})` : url;
}

/** `portcullis serve --policies DIR`: the admission webhook and Gatekeeper provider over HTTPS, until SIGTERM. */
export async function serveCommand(opts: ServeCommandOptions, io: CliIo): Promise<number> {
  const listen = { port: port(opts.port), host: opts.host ?? '0.0.0.0' };
  const config = await loadServeConfig(opts.config);
  if ((opts.tlsCert === undefined) !== (opts.tlsKey === undefined))
    throw new PortcullisError('ERR_INPUT_INVALID', '--tls-cert and --tls-key go together');
  if (opts.tlsCert !== undefined) await checkTlsFile('--tls-cert', opts.tlsCert);
  if (opts.tlsKey !== undefined) await checkTlsFile('--tls-key', opts.tlsKey);
  if (opts.policies !== undefined && opts.kubernetes !== true && opts.kubeconfig === undefined)
    await checkPolicyDirectory(opts.policies);
  let webhook;
  try {
    webhook = await startWebhook({
      ...listen,
      config,
      devCertDir: resolve(opts.devCertDir ?? '.portcullis-dev-cert'),
      ...(opts.policies === undefined ? {} : { policies: opts.policies }),
      ...(opts.kubernetes === true || opts.kubeconfig !== undefined
        ? { kubernetes: opts.kubeconfig === undefined ? {} : { kubeconfig: opts.kubeconfig } }
        : {}),
      ...(opts.tlsCert === undefined ? {} : { tlsCert: opts.tlsCert }),
      ...(opts.tlsKey === undefined ? {} : { tlsKey: opts.tlsKey }),
    });
  } catch (error) {
    throw startupError(error, {
      ...listen,
      ...(opts.tlsCert === undefined ? {} : { tlsCert: opts.tlsCert }),
      ...(opts.tlsKey === undefined ? {} : { tlsKey: opts.tlsKey }),
    });
  }
  // Listen for SIGTERM before saying we are up: a supervisor may stop us the moment we say so.
  const shutdown = io.untilShutdown();
  // Human lines go to stderr: stdout carries the JSON log lines alone.
  io.stderr(
    `portcullis webhook listening on ${listeningAt(webhook.url, listen.host)} (POST /validate${config.webhook.mutate ? ', /mutate' : ''}${config.webhook.gatekeeper ? ', /gatekeeper/v1/verify' : ''}; /healthz, /readyz${config.metrics.port === 0 ? ', /metrics' : ''})\n`,
  );
  if (webhook.devCaFile !== undefined) io.stderr(`development certificate: trust the CA in ${webhook.devCaFile}\n`);
  await shutdown;
  io.stderr(
    `shutting down: /readyz answers 503 for ${config.webhook.shutdownDelaySeconds} s while reviews are still served, then in-flight requests drain\n`,
  );
  await webhook.stop();
  return EXIT.ok;
}
