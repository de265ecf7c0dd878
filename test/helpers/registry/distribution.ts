/**
 * The REAL CNCF distribution registry (Debian's `docker-registry`, 2.8.2) for tests, on 127.0.0.1.
 *
 * What distribution 2.8.2 does with Notary signature manifests (each point is checked by
 * distribution.test.ts):
 * - No Referrers API: GET /v2/<name>/referrers/<digest> → 404 with a plain-text router body
 *   ("404 page not found"), not distribution error JSON. Clients must use the referrers tag schema
 *   (an OCI image index tagged `sha256-<hex>`), which 2.8 stores and serves like any index.
 * - PUT of an OCI image manifest (Content-Type application/vnd.oci.image.manifest.v1+json) with
 *   `subject` and `artifactType` → 201 once config and layer blobs exist in that repository. It
 *   ignores both fields: bytes are stored as pushed (GET returns them byte-for-byte, same digest),
 *   no `OCI-Subject` header is sent, and the subject need not exist.
 * - Config media types `application/vnd.cncf.notary.signature` (older notation) and
 *   `application/vnd.oci.empty.v1+json` (notation 1.x, 2-byte `{}` blob) are both accepted, as are
 *   layer types `application/jose+json` / `application/cose`, `layers: []`, and a missing
 *   top-level `mediaType`. The empty config blob must be pushed like any other blob.
 * - Rejected: a missing config/layer blob → 400 MANIFEST_BLOB_UNKNOWN; an OCI index listing a
 *   manifest not in the repository → 400 MANIFEST_BLOB_UNKNOWN (so push the signature before the
 *   tag-schema index); a body whose mediaType differs from Content-Type → 400 MANIFEST_INVALID;
 *   the OCI 1.1-rc artifact manifest (application/vnd.oci.artifact.manifest.v1+json) → 400
 *   MANIFEST_INVALID; a digest reference that does not match the body → 400 DIGEST_INVALID.
 * - GET/HEAD of an OCI manifest or index (by tag OR digest) → 404 MANIFEST_UNKNOWN ("OCI manifest
 *   found, but accept header does not support OCI manifests") unless Accept lists its media type.
 * - Not supported: single-request `POST …/blobs/uploads/?digest=` (202, body ignored — use
 *   POST then PUT), DELETE of a manifest by tag (400). Cross-repository mount works (201).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port.js';
import { serverTls, type ServerTls } from './tls.js';
import { TokenServer, type Permissions } from './token-server.js';

export interface DistributionOptions {
  /** Serve HTTPS with a certificate for 127.0.0.1/localhost issued by a CA made here. */
  tls?: boolean;
  auth?: 'none' | 'basic' | 'token';
  /** Default { alice: 'wonderland' }. */
  users?: Record<string, string>;
  /** Token auth only; default: authenticated users pull+push everything, anonymous nothing. */
  permissions?: Permissions;
  /** Listen address (default 127.0.0.1); the node scenario uses its bridge's address, which pods reach. */
  address?: string;
}

const READY_TIMEOUT_MS = 15_000;
const SERVICE = 'portcullis-test-registry';
const ISSUER = 'portcullis-test-token-issuer';

export class DistributionRegistry {
  readonly host: string;
  readonly url: string;
  readonly caPem: string | undefined;
  readonly caFile: string | undefined;
  readonly users: Record<string, string>;
  readonly tokenServer: TokenServer | undefined;
  #child: ChildProcess;
  readonly #dir: string;
  readonly #tls: ServerTls | undefined;
  readonly #onExit: () => void;
  readonly #configFile: string;

  private constructor(init: {
    address: string;
    port: number;
    child: ChildProcess;
    dir: string;
    tls: ServerTls | undefined;
    users: Record<string, string>;
    tokenServer: TokenServer | undefined;
    onExit: () => void;
    configFile: string;
  }) {
    this.#configFile = init.configFile;
    this.host = `${init.address}:${init.port}`;
    this.url = `${init.tls === undefined ? 'http' : 'https'}://${this.host}`;
    this.caPem = init.tls?.caPem;
    this.caFile = init.tls?.caFile;
    this.users = init.users;
    this.tokenServer = init.tokenServer;
    this.#child = init.child;
    this.#dir = init.dir;
    this.#tls = init.tls;
    this.#onExit = init.onExit;
  }

  static async start(options: DistributionOptions = {}): Promise<DistributionRegistry> {
    const users = options.users ?? { alice: 'wonderland' };
    const auth = options.auth ?? 'none';
    const address = options.address ?? '127.0.0.1';
    const dir = mkdtempSync(join(tmpdir(), 'portcullis-distribution-'));
    let tls: ServerTls | undefined;
    let tokenServer: TokenServer | undefined;
    try {
      tls = options.tls === true ? serverTls('distribution') : undefined;
      const authLines: string[] = [];
      if (auth === 'basic') {
        const htpasswd = join(dir, 'htpasswd');
        // bcrypt (-B) is the only hash distribution's htpasswd backend accepts.
        writeFileSync(
          htpasswd,
          Object.entries(users)
            .map(([u, p]) => execFileSync('htpasswd', ['-nbB', u, p]).toString().trim())
            .join('\n') + '\n',
        );
        authLines.push('auth:', '  htpasswd:', '    realm: portcullis-test', `    path: ${htpasswd}`);
      } else if (auth === 'token') {
        tokenServer = await TokenServer.start({
          users,
          service: SERVICE,
          issuer: ISSUER,
          ...(options.permissions === undefined ? {} : { permissions: options.permissions }),
        });
        authLines.push(
          'auth:',
          '  token:',
          `    realm: ${tokenServer.realm}`,
          `    service: ${SERVICE}`,
          `    issuer: ${ISSUER}`,
          `    rootcertbundle: ${tokenServer.certFile}`,
        );
      }
      // A port can be taken between freePort() and the bind: retry a few times.
      for (let attempt = 1; ; attempt++) {
        const port = await freePort();
        const configFile = join(dir, 'config.yml');
        writeFileSync(configFile, config(address, port, dir, tls, authLines));
        try {
          const child = await spawnAndWait(
            configFile,
            `${tls === undefined ? 'http' : 'https'}://${address}:${port}/v2/`,
            tls?.caPem,
          );
          const holder: { registry?: DistributionRegistry } = {};
          const onExit = (): void => {
            (holder.registry === undefined ? child : holder.registry.#child).kill('SIGKILL');
          };
          process.once('exit', onExit); // never leave a registry behind if the worker dies
          holder.registry = new DistributionRegistry({
            address,
            port,
            child,
            dir,
            tls,
            users,
            tokenServer,
            onExit,
            configFile,
          });
          return holder.registry;
        } catch (err) {
          if (attempt < 3 && /address already in use/i.test(String(err))) continue;
          throw err;
        }
      }
    } catch (err) {
      await tokenServer?.stop();
      tls?.pki.cleanup();
      rmSync(dir, { recursive: true, force: true });
      throw err;
    }
  }

  /**
   * Kills the registry process (SIGKILL: a crash, not a graceful stop), leaves it down for
   * `downMs`, and starts it again on the same port with the same storage (soak tests).
   */
  async restart(downMs = 0): Promise<void> {
    const child = this.#child;
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGKILL');
      await exited;
    }
    if (downMs > 0) await new Promise((r) => setTimeout(r, downMs));
    this.#child = await spawnAndWait(this.#configFile, `${this.url}/v2/`, this.caPem);
  }

  async stop(): Promise<void> {
    process.removeListener('exit', this.#onExit);
    const child = this.#child;
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 2000);
      await exited;
      clearTimeout(timer);
    }
    await this.tokenServer?.stop();
    this.#tls?.pki.cleanup();
    rmSync(this.#dir, { recursive: true, force: true });
  }
}

function config(address: string, port: number, dir: string, tls: ServerTls | undefined, authLines: string[]): string {
  return [
    'version: 0.1',
    'log:',
    '  level: error',
    '  accesslog:',
    '    disabled: true',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${join(dir, 'data')}`,
    '  delete:',
    '    enabled: true',
    '  maintenance:',
    '    uploadpurging:',
    '      enabled: false',
    'http:',
    `  addr: ${address}:${port}`,
    `  secret: ${randomBytes(16).toString('hex')}`,
    ...(tls === undefined ? [] : ['  tls:', `    certificate: ${tls.certFile}`, `    key: ${tls.keyFile}`]),
    ...authLines,
    '',
  ].join('\n');
}

/** Spawns the registry and resolves once GET /v2/ answers 200 or 401; rejects with stderr on early exit. */
async function spawnAndWait(configFile: string, probeUrl: string, caPem: string | undefined): Promise<ChildProcess> {
  const child = spawn('docker-registry', ['serve', configFile], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (s: string) => {
    if (stderr.length < 64 * 1024) stderr += s;
  });
  const exited = new Promise<never>((_, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) =>
      reject(new Error(`docker-registry exited early (${code ?? signal}): ${stderr.trim()}`)),
    );
  });
  exited.catch(() => undefined); // observed below; avoid an unhandled rejection after success
  const deadline = Date.now() + READY_TIMEOUT_MS;
  try {
    for (;;) {
      const status = await Promise.race([probe(probeUrl, caPem), exited]);
      if (status === 200 || status === 401) return child;
      if (Date.now() > deadline)
        throw new Error(`docker-registry not ready after ${READY_TIMEOUT_MS} ms: ${stderr.trim()}`);
      await Promise.race([new Promise((r) => setTimeout(r, 50)), exited]);
    }
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
}

/** Status of GET url, or 0 when nothing answers yet. */
function probe(url: string, caPem: string | undefined): Promise<number> {
  return new Promise((resolve) => {
    const request = url.startsWith('https:') ? httpsRequest : httpRequest;
    const req = request(
      url,
      { method: 'GET', agent: false, timeout: 1000, ...(caPem === undefined ? {} : { ca: caPem }) },
      (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      },
    );
    req.on('error', () => resolve(0));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}
