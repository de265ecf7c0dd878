import { watch, type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname } from 'node:path';
import { createSecureContext, type SecureContextOptions, type TLSSocket } from 'node:tls';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import { writeJson } from './context.js';

/**
 * Serves a built app over HTTPS. One listener for the API server and Gatekeeper alike:
 *
 * - TLS 1.3 minimum by default: Gatekeeper (≥ 3.11) requires it of providers and the API server
 *   speaks it; `minVersion: 'TLSv1.2'` is there for older clients.
 * - `clientCaFile` turns on client-certificate verification (Gatekeeper's mTLS): the handshake
 *   asks for a certificate, and every request except `GET /healthz` and `/readyz` without one
 *   issued by that CA gets 401 `ERR_CLIENT_CERT_REQUIRED` and a closed connection. The probes
 *   stay open so that the kubelet, which has no client certificate, can still ask whether the
 *   policies are loaded (a TCP probe would call the pod ready before they are).
 * - The certificate, key and client CA are re-read when their files change (the directory is
 *   watched, so Kubernetes' atomic `..data` symlink swap is seen) and swapped in with
 *   `setSecureContext`: new connections get the new certificate, open ones keep theirs. Files
 *   that do not load (half-written, key and certificate mismatched) are logged and the old
 *   context stays.
 * - `stop()` first answers `/readyz` with 503 while still serving everything else for
 *   `shutdownDelayMs` (in a cluster the pod's endpoint is removed asynchronously after SIGTERM,
 *   and the API server keeps sending reviews until it is: refusing them would deny pods), then
 *   stops accepting, lets in-flight requests finish, and after `shutdownTimeoutMs` closes
 *   whatever is left. From `stop()` on every answer carries `Connection: close`, so clients move
 *   to new connections (other pods, once the endpoint is gone) rather than reusing one the
 *   server is about to close: a POST sent on a connection closed under it is lost.
 */

export interface TlsFiles {
  readonly certFile: string;
  readonly keyFile: string;
  /** PEM CA bundle; when set, clients must present a certificate issued by it. */
  readonly clientCaFile?: string;
  /** Default `TLSv1.3`. */
  readonly minVersion?: 'TLSv1.2' | 'TLSv1.3';
}

export interface ServerOptions {
  readonly port: number;
  /** Default `0.0.0.0` (in a pod); tests use `127.0.0.1`. */
  readonly host?: string;
  readonly tls: TlsFiles;
  /** Watch the TLS files and reload on change. Default true. */
  readonly watchTls?: boolean;
  /** Wait this long after the last file event before reloading, ms. Default 250. */
  readonly reloadDebounceMs?: number;
  /** Also re-read the files on this interval, in case the platform drops file events, ms; 0 disables. Default 60000. */
  readonly reloadPollMs?: number;
  /** How long `stop()` keeps serving (with `/readyz` at 503) before it stops accepting, ms. Default 0. */
  readonly shutdownDelayMs?: number;
  /**
   * How long `stop()` then waits for in-flight requests before closing connections, ms. Default 25000 (inside
   * Kubernetes' 30 s grace period).
   */
  readonly shutdownTimeoutMs?: number;
  /**
   * Idle keep-alive connections are closed after this long, ms. Default 65000: longer than the API server's idle
   * timeout, so it closes first.
   */
  readonly keepAliveTimeoutMs?: number;
  /** Where reload and shutdown events are logged. Default the app's logger. */
  readonly logger?: FastifyBaseLogger;
}

export interface RunningServer {
  readonly server: Server;
  readonly port: number;
  /** `https://host:port` (with `127.0.0.1` for a wildcard host). */
  readonly url: string;
  /** Re-reads the TLS files now. Resolves true when a new context was installed. */
  reload(): Promise<boolean>;
  /** Graceful shutdown; resolves once every connection is closed and the app is closed. */
  stop(): Promise<void>;
}

interface Material {
  readonly cert: Buffer;
  readonly key: Buffer;
  readonly ca?: Buffer;
}

async function readMaterial(tls: TlsFiles): Promise<Material> {
  const [cert, key, ca] = await Promise.all([
    readFile(tls.certFile),
    readFile(tls.keyFile),
    tls.clientCaFile === undefined ? Promise.resolve(undefined) : readFile(tls.clientCaFile),
  ]);
  return { cert, key, ...(ca === undefined ? {} : { ca }) };
}

function contextOptions(m: Material, tls: TlsFiles): SecureContextOptions {
  return {
    cert: m.cert,
    key: m.key,
    ...(m.ca === undefined ? {} : { ca: m.ca }),
    minVersion: tls.minVersion ?? 'TLSv1.3',
  };
}

function same(a: Material, b: Material): boolean {
  return (
    a.cert.equals(b.cert) &&
    a.key.equals(b.key) &&
    (a.ca === undefined ? b.ca === undefined : b.ca !== undefined && a.ca.equals(b.ca))
  );
}

/** Which of the kubelet's probes a request is, if any (they are served without a client certificate). */
function probeOf(req: IncomingMessage): '/healthz' | '/readyz' | undefined {
  if (req.method !== 'GET' && req.method !== 'HEAD') return undefined;
  const url = req.url ?? '';
  const query = url.indexOf('?');
  const path = query === -1 ? url : url.slice(0, query);
  return path === '/healthz' || path === '/readyz' ? path : undefined;
}

export async function startServer(app: FastifyInstance, options: ServerOptions): Promise<RunningServer> {
  const log = options.logger ?? app.log;
  const tls = options.tls;
  let current = await readMaterial(tls);
  const initial = contextOptions(current, tls);
  createSecureContext(initial); // fail fast, with OpenSSL's reason, on unusable files

  await app.ready();
  let shuttingDown = false;
  const clientCertificates = tls.clientCaFile !== undefined;
  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    if (clientCertificates && !(req.socket as TLSSocket).authorized && probeOf(req) === undefined) {
      const reason = (req.socket as TLSSocket).authorizationError;
      res.setHeader('Connection', 'close');
      writeJson(res, 401, {
        code: 'ERR_CLIENT_CERT_REQUIRED',
        message: `a client certificate issued by the configured client CA is required${reason === undefined || reason === null ? '' : ` (${String(reason)})`}`,
      });
      return;
    }
    if (shuttingDown) {
      // Every answer from now on closes its connection: a client told so with the answer opens a
      // new one (which the Service routes elsewhere once the endpoint is gone) instead of sending
      // its next request on a kept-alive connection that the server may close under it — Go's
      // client (the API server's) does not retry a POST lost that way.
      res.setHeader('Connection', 'close');
      if (probeOf(req) === '/readyz') {
        writeJson(res, 503, { ready: false, message: 'shutting down' });
        return;
      }
    }
    app.routing(req, res);
  };
  const server = createServer(
    {
      ...initial,
      ...(tls.clientCaFile === undefined ? {} : { requestCert: true, rejectUnauthorized: false }),
      keepAliveTimeout: options.keepAliveTimeoutMs ?? 65_000,
    },
    handler,
  );
  // Handshake failures (TCP connects without TLS, protocol mismatches) are the client's problem.
  server.on('tlsClientError', (error) => log.debug({ err: error }, 'TLS handshake failed'));
  // Node ≥ 18 bounds headers and whole requests; keep them above any webhook timeout (30 s max).
  server.headersTimeout = 40_000;
  server.requestTimeout = 60_000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '0.0.0.0', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host =
    options.host === undefined || options.host === '0.0.0.0' || options.host === '::' ? '127.0.0.1' : options.host;

  let reloading: Promise<boolean> | undefined;
  async function doReload(): Promise<boolean> {
    let next: Material;
    try {
      next = await readMaterial(tls);
      if (same(next, current)) return false;
      const opts = contextOptions(next, tls);
      createSecureContext(opts); // throws for a bad PEM or a key that does not match
      server.setSecureContext(opts);
    } catch (error) {
      log.error(
        { err: error, certFile: tls.certFile, keyFile: tls.keyFile },
        'TLS files did not load; keeping the current certificate',
      );
      return false;
    }
    current = next;
    log.info({ certFile: tls.certFile }, 'TLS certificate reloaded');
    return true;
  }
  function reload(): Promise<boolean> {
    // Serialise reloads: a second request waits for the first, then reads the files again.
    const run = (reloading ?? Promise.resolve(false)).then(doReload, doReload);
    reloading = run;
    return run;
  }

  const watchers: FSWatcher[] = [];
  let debounce: NodeJS.Timeout | undefined;
  let poll: NodeJS.Timeout | undefined;
  if (options.watchTls ?? true) {
    const schedule = (): void => {
      clearTimeout(debounce);
      debounce = setTimeout(() => void reload(), options.reloadDebounceMs ?? 250);
      debounce.unref();
    };
    const dirs = new Set(
      [tls.certFile, tls.keyFile, ...(tls.clientCaFile === undefined ? [] : [tls.clientCaFile])].map((f) => dirname(f)),
    );
    for (const dir of dirs) {
      try {
        const w = watch(dir, { persistent: false }, schedule);
        w.on('error', (error) => log.warn({ err: error, dir }, 'watching TLS files failed; relying on the poll'));
        watchers.push(w);
      } catch (error) {
        log.warn({ err: error, dir }, 'cannot watch TLS files; relying on the poll');
      }
    }
    const every = options.reloadPollMs ?? 60_000;
    if (every > 0) {
      poll = setInterval(() => void reload(), every);
      poll.unref();
    }
  }

  let stopping: Promise<void> | undefined;
  function stop(): Promise<void> {
    stopping ??= (async () => {
      shuttingDown = true;
      const delayMs = options.shutdownDelayMs ?? 0;
      if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
      for (const w of watchers) w.close();
      clearTimeout(debounce);
      clearInterval(poll);
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // Connections that finish their last in-flight request go idle: close them as they do.
      const reap = setInterval(() => server.closeIdleConnections(), 50);
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), options.shutdownTimeoutMs ?? 25_000);
      });
      server.closeIdleConnections();
      const outcome = await Promise.race([closed.then(() => 'drained' as const), timedOut]);
      clearInterval(reap);
      clearTimeout(timer);
      if (outcome === 'timeout') {
        log.warn('shutdown timeout: closing connections with requests still in flight');
        server.closeAllConnections();
        await closed;
      }
      await app.close();
    })();
    return stopping;
  }

  return {
    server,
    port: address.port,
    url: `https://${host.includes(':') ? `[${host}]` : host}:${address.port}`,
    reload,
    stop,
  };
}
