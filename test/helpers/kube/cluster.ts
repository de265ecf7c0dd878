import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../registry/free-port.js';

/**
 * A real Kubernetes API server (kube-apiserver v1.20.2 built by scripts/kube/build-apiserver.sh)
 * with its own etcd, both on 127.0.0.1 only, for end-to-end tests. There is no scheduler,
 * kubelet or controller manager: admission, CRDs, RBAC and watches work; Pods stay Pending,
 * Deployments create no Pods and namespaces never finish terminating. See docs/e2e.md.
 */

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const BUILD_SCRIPT = join(REPO_ROOT, 'scripts', 'kube', 'build-apiserver.sh');
/** The repository root (for scripts). */
export { REPO_ROOT };
const ADMIN_TOKEN_BYTES = 24;
const READY_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 10_000;

export interface KubectlResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface KubectlOptions {
  /** Written to kubectl's stdin (e.g. a manifest for `apply -f -`). */
  readonly input?: string;
  /** Resolve with a non-zero `code` instead of throwing. */
  readonly allowFail?: boolean;
}

export interface KubeClusterOptions {
  /** Keep the temp dir (certs, kubeconfig, logs, etcd data) after stop(), for debugging. */
  readonly keepDir?: boolean;
  /**
   * An audit policy (YAML, audit.k8s.io/v1 Policy): the API server then writes its audit events
   * as JSON lines to `auditLog` (the log backend in blocking mode: an event is in the file before
   * the response is sent).
   */
  readonly auditPolicy?: string;
  /**
   * Where the API server listens and what it advertises (default 127.0.0.1). The node scenario
   * (test/e2e/node) uses the node bridge's address, so that pods reach it.
   */
  readonly address?: string;
  /** Service ClusterIP range (default 10.0.0.0/24); its first address is in the serving certificate. */
  readonly serviceCidr?: string;
  /** More static-token users: name → groups. Their tokens are in `tokens`. */
  readonly users?: Readonly<Record<string, readonly string[]>>;
  /** API server flags replacing the defaults of the same name, or added (`--name` → value). */
  readonly apiServerFlags?: Readonly<Record<string, string>>;
}

/** `Kubernetes v1.20.2` binary lookup, as the build script reports it. */
interface Located {
  readonly path: string;
  readonly works: boolean;
}

function locate(): Located {
  const override = process.env['PORTCULLIS_KUBE_APISERVER'];
  if (override !== undefined && override !== '') {
    const r = spawnSync(override, ['--version'], { encoding: 'utf8' });
    return { path: override, works: r.status === 0 };
  }
  const r = spawnSync('bash', [BUILD_SCRIPT, '--print-path'], { encoding: 'utf8' });
  if (r.error !== undefined) throw new Error(`KubeCluster: cannot run ${BUILD_SCRIPT}: ${r.error.message}`);
  const path = r.stdout.trim();
  if (r.status !== 0 && r.status !== 3) {
    throw new Error(`KubeCluster: ${BUILD_SCRIPT} --print-path failed (${r.status}): ${r.stderr}`);
  }
  return { path, works: r.status === 0 };
}

function onPath(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

function missingTools(): string[] {
  return ['etcd', 'kubectl', 'openssl'].filter((t) => !onPath(t));
}

/** Runs the build script (a no-op when the binary is cached), forwarding its progress to stderr. */
function build(): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn('bash', [BUILD_SCRIPT], { stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr.on('data', (d: Buffer) => process.stderr.write(d));
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0 ? resolvePromise() : reject(new Error(`KubeCluster: ${BUILD_SCRIPT} failed with exit code ${code}`)),
    );
  });
}

function notBuiltMessage(path: string): string {
  return [
    `KubeCluster: kube-apiserver v1.20.2 is not built (expected at ${path}).`,
    'Build it once (about 7 minutes on 2 cores; it is cached outside the clone):',
    '  make kube-apiserver        # or: scripts/kube/build-apiserver.sh',
    'or set PORTCULLIS_BUILD_APISERVER=1 to let the tests build it. See docs/e2e.md.',
  ].join('\n');
}

function run(cmd: string, args: readonly string[], cwd: string): void {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`KubeCluster: ${cmd} ${args.join(' ')} failed: ${r.error?.message ?? r.stderr}`);
}

/**
 * Certificates for the API server, all made with openssl in `dir`:
 * - ca.crt/ca.key: the cluster CA; signs the serving certificate and is the client CA
 * - apiserver.crt/.key: serving certificate, SAN IP:127.0.0.1 and DNS:localhost
 * - sa.key/sa.pub: service-account token signing key pair
 */
function makePki(dir: string, sanIps: readonly string[]): void {
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  run(
    'openssl',
    [
      'req',
      '-x509',
      ...ec,
      '-keyout',
      'ca.key',
      '-out',
      'ca.crt',
      '-days',
      '2',
      '-subj',
      '/CN=portcullis-e2e-ca',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ],
    dir,
  );
  run(
    'openssl',
    ['req', '-new', ...ec, '-keyout', 'apiserver.key', '-out', 'apiserver.csr', '-subj', '/CN=kube-apiserver'],
    dir,
  );
  writeFileSync(
    join(dir, 'apiserver.ext'),
    [
      'basicConstraints=CA:FALSE',
      'keyUsage=critical,digitalSignature,keyEncipherment',
      'extendedKeyUsage=serverAuth',
      `subjectAltName=${[...new Set(['127.0.0.1', ...sanIps])].map((ip) => `IP:${ip}`).join(',')},DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local`,
      '',
    ].join('\n'),
  );
  run(
    'openssl',
    [
      'x509',
      '-req',
      '-in',
      'apiserver.csr',
      '-CA',
      'ca.crt',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-days',
      '2',
      '-sha256',
      '-extfile',
      'apiserver.ext',
      '-out',
      'apiserver.crt',
    ],
    dir,
  );
  // The API server's client certificate towards kubelets (logs, exec), in system:masters.
  run(
    'openssl',
    [
      'req',
      '-new',
      ...ec,
      '-keyout',
      'kubelet-client.key',
      '-out',
      'kubelet-client.csr',
      '-subj',
      '/O=system:masters/CN=kube-apiserver-kubelet-client',
    ],
    dir,
  );
  writeFileSync(
    join(dir, 'client.ext'),
    [
      'basicConstraints=CA:FALSE',
      'keyUsage=critical,digitalSignature,keyEncipherment',
      'extendedKeyUsage=clientAuth',
      '',
    ].join('\n'),
  );
  run(
    'openssl',
    [
      'x509',
      '-req',
      '-in',
      'kubelet-client.csr',
      '-CA',
      'ca.crt',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-days',
      '2',
      '-sha256',
      '-extfile',
      'client.ext',
      '-out',
      'kubelet-client.crt',
    ],
    dir,
  );
  run('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', 'sa.key'], dir);
  run('openssl', ['pkey', '-in', 'sa.key', '-pubout', '-out', 'sa.pub'], dir);
}

/** The first address of a service CIDR (the `kubernetes` Service's ClusterIP). */
function firstServiceIp(cidr: string): string {
  const [base] = cidr.split('/');
  const octets = (base ?? '').split('.').map(Number);
  if (octets.length !== 4 || octets.some((o) => !Number.isInteger(o)))
    throw new Error(`KubeCluster: not an IPv4 CIDR: ${cidr}`);
  const n =
    ((octets[0] as number) * 2 ** 24 +
      (octets[1] as number) * 2 ** 16 +
      (octets[2] as number) * 2 ** 8 +
      (octets[3] as number) +
      1) >>>
    0;
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

function randomToken(): string {
  return randomBytes(ADMIN_TOKEN_BYTES).toString('hex');
}

export function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export function tail(file: string, lines = 40): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** Spawns a daemon with stdout+stderr appended to `log`. */
export function daemon(cmd: string, args: readonly string[], log: string): ChildProcess {
  const fd = openSync(log, 'a');
  try {
    return spawn(cmd, args, { stdio: ['ignore', fd, fd] });
  } finally {
    closeSync(fd);
  }
}

function exited(p: ChildProcess): boolean {
  return p.exitCode !== null || p.signalCode !== null;
}

/** SIGTERM, then SIGKILL after 10 s; resolves when the process has exited. */
export async function stopProcess(p: ChildProcess): Promise<void> {
  if (exited(p)) return;
  const done = new Promise<void>((r) => p.once('exit', () => r()));
  p.kill('SIGTERM');
  const timer = setTimeout(() => p.kill('SIGKILL'), STOP_TIMEOUT_MS);
  await done;
  clearTimeout(timer);
}

/** One GET; resolves with the status code and body, rejects on connection errors. */
function get(url: string, opts: { ca?: string; token?: string }): Promise<{ status: number; body: string }> {
  return new Promise((resolvePromise, reject) => {
    const headers: Record<string, string> = opts.token === undefined ? {} : { authorization: `Bearer ${opts.token}` };
    const handler = (res: IncomingMessage): void => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolvePromise({ status: res.statusCode ?? 0, body }));
    };
    const req = url.startsWith('https:')
      ? request(url, { headers, ...(opts.ca === undefined ? {} : { ca: opts.ca }), timeout: 5000 }, handler)
      : httpRequest(url, { headers, timeout: 5000 }, handler);
    req.once('timeout', () => req.destroy(new Error('timeout')));
    req.once('error', reject);
    req.end();
  });
}

/** Polls `check` until it returns true; fails early when `proc` exits. */
async function waitFor(what: string, proc: ChildProcess, log: string, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (exited(proc))
      throw new Error(`KubeCluster: ${what} exited (${proc.exitCode ?? proc.signalCode}); log ${log}:\n${tail(log)}`);
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline)
      throw new Error(`KubeCluster: ${what} not ready after ${READY_TIMEOUT_MS} ms; log ${log}:\n${tail(log)}`);
    await delay(100);
  }
}

function addressInUse(log: string): boolean {
  return /address already in use/i.test(tail(log, 200));
}

/**
 * Children and temp dirs of every live cluster, removed if the test process exits without
 * stop() (a crash or process.exit; a SIGKILL of the test process still leaves them behind).
 */
const live = new Set<ChildProcess>();
const liveDirs = new Set<string>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const c of live) c.kill('SIGKILL');
    for (const d of liveDirs) rmSync(d, { recursive: true, force: true });
  });
}
/** Kills `p` (SIGKILL) if the test process exits while it still runs. */
export function track(p: ChildProcess): void {
  installExitHook();
  live.add(p);
  p.once('exit', () => live.delete(p));
}

export class KubeCluster {
  /** Path of the kubeconfig (server URL, CA file, admin token). */
  readonly kubeconfig: string;
  /** `https://127.0.0.1:<port>` */
  readonly server: string;
  /** Bearer token of a `system:masters` user. */
  readonly token: string;
  /** Tokens of the extra users (KubeClusterOptions.users), by user name. */
  readonly tokens: Readonly<Record<string, string>>;
  /** CA certificate (PEM file) that verifies the server. */
  readonly caFile: string;
  /** Temp dir holding the certificates, kubeconfig, logs and etcd data. */
  readonly dir: string;
  /** The audit log (JSON lines), when started with an audit policy. */
  readonly auditLog: string;
  readonly #etcd: ChildProcess;
  readonly #apiserver: ChildProcess;
  readonly #keepDir: boolean;
  #stopped = false;

  private constructor(init: {
    dir: string;
    server: string;
    token: string;
    tokens: Record<string, string>;
    etcd: ChildProcess;
    apiserver: ChildProcess;
    keepDir: boolean;
  }) {
    this.dir = init.dir;
    this.server = init.server;
    this.token = init.token;
    this.tokens = init.tokens;
    this.caFile = join(init.dir, 'ca.crt');
    this.kubeconfig = join(init.dir, 'kubeconfig');
    this.auditLog = join(init.dir, 'audit.log');
    this.#etcd = init.etcd;
    this.#apiserver = init.apiserver;
    this.#keepDir = init.keepDir;
  }

  /**
   * Whether a cluster can start here without building anything: the cached kube-apiserver runs
   * and etcd, kubectl and openssl are on PATH. Tests must not skip on `false`; CI builds first.
   */
  static available(): boolean {
    try {
      return locate().works && missingTools().length === 0;
    } catch {
      return false;
    }
  }

  /**
   * Starts etcd and kube-apiserver on free 127.0.0.1 ports in a fresh temp dir and waits until
   * `/readyz` answers 200 (about 4 s). Fails with instructions when the binary is not built,
   * unless PORTCULLIS_BUILD_APISERVER=1 asks to build it (once, ~7 min).
   */
  static async start(options: KubeClusterOptions = {}): Promise<KubeCluster> {
    let found = locate();
    if (!found.works) {
      if (process.env['PORTCULLIS_BUILD_APISERVER'] !== '1') throw new Error(notBuiltMessage(found.path));
      await build();
      found = locate();
      if (!found.works) throw new Error(`KubeCluster: the build finished but ${found.path} does not run`);
    }
    const missing = missingTools();
    if (missing.length > 0) {
      throw new Error(
        `KubeCluster: ${missing.join(', ')} not on PATH; run scripts/kube/build-apiserver.sh (it installs them)`,
      );
    }
    // Ports are picked free and then bound by the children; retry if another process won a race.
    for (let attempt = 1; ; attempt++) {
      try {
        return await KubeCluster.#startOnce(
          found.path,
          options.keepDir ?? process.env['PORTCULLIS_KEEP_CLUSTER_DIR'] === '1',
          options,
        );
      } catch (e) {
        if (!(e instanceof PortRace) || attempt >= 3) throw e instanceof PortRace ? e.cause : e;
      }
    }
  }

  static async #startOnce(apiserverBin: string, keepDir: boolean, options: KubeClusterOptions): Promise<KubeCluster> {
    const auditPolicy = options.auditPolicy;
    const address = options.address ?? '127.0.0.1';
    const serviceCidr = options.serviceCidr ?? '10.0.0.0/24';
    const serviceIp = firstServiceIp(serviceCidr);
    const dir = mkdtempSync(join(tmpdir(), 'portcullis-kube-'));
    if (!keepDir) {
      installExitHook();
      liveDirs.add(dir);
    }
    const procs: ChildProcess[] = [];
    try {
      makePki(dir, [address, serviceIp]);
      const token = randomToken();
      const tokens: Record<string, string> = {};
      const lines = [`${token},portcullis-admin,portcullis-admin-uid,"system:masters"`];
      for (const [user, groups] of Object.entries(options.users ?? {})) {
        tokens[user] = randomToken();
        lines.push(`${tokens[user]},${user},${user}-uid${groups.length === 0 ? '' : `,"${groups.join(',')}"`}`);
      }
      writeFileSync(join(dir, 'tokens.csv'), `${lines.join('\n')}\n`, { mode: 0o600 });

      const [clientPort, peerPort, apiPort] = [await freePort(), await freePort(), await freePort()];
      const etcdUrl = `http://127.0.0.1:${clientPort}`;
      const peerUrl = `http://127.0.0.1:${peerPort}`;
      const etcdLog = join(dir, 'etcd.log');
      const etcd = daemon(
        'etcd',
        [
          '--name',
          'portcullis-e2e',
          '--data-dir',
          join(dir, 'etcd'),
          '--listen-client-urls',
          etcdUrl,
          '--advertise-client-urls',
          etcdUrl,
          '--listen-peer-urls',
          peerUrl,
          '--initial-advertise-peer-urls',
          peerUrl,
          '--initial-cluster',
          `portcullis-e2e=${peerUrl}`,
          '--initial-cluster-state',
          'new',
          '--logger',
          'zap',
          '--log-level',
          'warn',
        ],
        etcdLog,
      );
      procs.push(etcd);
      track(etcd);
      try {
        await waitFor('etcd', etcd, etcdLog, async () => {
          const r = await get(`${etcdUrl}/health`, {});
          return r.status === 200 && r.body.includes('"true"');
        });
      } catch (e) {
        if (addressInUse(etcdLog)) throw new PortRace(e);
        throw e;
      }

      const server = `https://${address}:${apiPort}`;
      const apiLog = join(dir, 'kube-apiserver.log');
      const audit: string[] = [];
      if (auditPolicy !== undefined) {
        writeFileSync(join(dir, 'audit-policy.yaml'), auditPolicy);
        audit.push(
          `--audit-policy-file=${join(dir, 'audit-policy.yaml')}`,
          `--audit-log-path=${join(dir, 'audit.log')}`,
          '--audit-log-format=json',
          '--audit-log-mode=blocking',
        );
      }
      const flags = new Map<string, string>([
        ['--etcd-servers', etcdUrl],
        ['--bind-address', address],
        ['--advertise-address', address],
        ['--secure-port', String(apiPort)],
        ['--insecure-port', '0'],
        ['--cert-dir', join(dir, 'certs')],
        ['--tls-cert-file', join(dir, 'apiserver.crt')],
        ['--tls-private-key-file', join(dir, 'apiserver.key')],
        ['--client-ca-file', join(dir, 'ca.crt')],
        ['--token-auth-file', join(dir, 'tokens.csv')],
        ['--authorization-mode', 'RBAC'],
        ['--service-account-issuer', 'https://kubernetes.default.svc.cluster.local'],
        ['--service-account-key-file', join(dir, 'sa.pub')],
        ['--service-account-signing-key-file', join(dir, 'sa.key')],
        ['--service-cluster-ip-range', serviceCidr],
        ['--endpoint-reconciler-type', 'none'],
        // Admission as in a real cluster, minus ServiceAccount: nothing creates the `default`
        // service account here (no controller manager), so that plugin would reject every Pod.
        [
          '--enable-admission-plugins',
          'NamespaceLifecycle,LimitRanger,Priority,DefaultTolerationSeconds,ResourceQuota,MutatingAdmissionWebhook,ValidatingAdmissionWebhook',
        ],
        ['--disable-admission-plugins', 'ServiceAccount'],
        ['--kubelet-client-certificate', join(dir, 'kubelet-client.crt')],
        ['--kubelet-client-key', join(dir, 'kubelet-client.key')],
        ['--profiling', 'false'],
        ['--logtostderr', 'true'],
        ['--v', '1'],
      ]);
      for (const [flag, value] of Object.entries(options.apiServerFlags ?? {})) flags.set(flag, value);
      const apiserver = daemon(
        apiserverBin,
        [...[...flags].map(([flag, value]) => `${flag}=${value}`), ...audit],
        apiLog,
      );
      procs.push(apiserver);
      track(apiserver);
      try {
        await waitFor('kube-apiserver', apiserver, apiLog, async () => {
          const r = await get(`${server}/readyz`, { ca: readFileSync(join(dir, 'ca.crt'), 'utf8'), token });
          return r.status === 200;
        });
      } catch (e) {
        if (addressInUse(apiLog)) throw new PortRace(e);
        throw e;
      }

      writeFileSync(
        join(dir, 'kubeconfig'),
        [
          'apiVersion: v1',
          'kind: Config',
          'clusters:',
          '- name: portcullis-e2e',
          '  cluster:',
          `    server: ${server}`,
          `    certificate-authority: ${join(dir, 'ca.crt')}`,
          'users:',
          '- name: portcullis-admin',
          '  user:',
          `    token: ${token}`,
          'contexts:',
          '- name: portcullis-e2e',
          '  context:',
          '    cluster: portcullis-e2e',
          '    user: portcullis-admin',
          '    namespace: default',
          'current-context: portcullis-e2e',
          '',
        ].join('\n'),
        { mode: 0o600 },
      );
      return new KubeCluster({ dir, server, token, tokens, etcd, apiserver, keepDir });
    } catch (e) {
      for (const p of procs.reverse()) await stopProcess(p);
      if (!keepDir) {
        rmSync(dir, { recursive: true, force: true });
        liveDirs.delete(dir);
      }
      throw e;
    }
  }

  /** Runs kubectl against this cluster; throws on a non-zero exit unless `allowFail`. */
  kubectl(args: string[], opts: KubectlOptions = {}): Promise<KubectlResult> {
    const full = ['--kubeconfig', this.kubeconfig, '--cache-dir', join(this.dir, 'kubectl-cache'), ...args];
    return new Promise((resolvePromise, reject) => {
      const child = spawn('kubectl', full, {
        stdio: ['pipe', 'pipe', 'pipe'],
        env: { ...process.env, KUBECONFIG: this.kubeconfig },
        timeout: 60_000,
      });
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
      child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      child.once('error', reject);
      child.once('close', (code, signal) => {
        const result = { code: code ?? 128, stdout, stderr };
        if (result.code !== 0 && opts.allowFail !== true) {
          reject(new Error(`kubectl ${args.join(' ')} failed (${code ?? signal}):\n${stderr}${stdout}`));
        } else {
          resolvePromise(result);
        }
      });
      child.stdin.end(opts.input ?? '');
    });
  }

  /** Stops kube-apiserver, then etcd, and removes the temp dir (unless kept). Idempotent. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    await stopProcess(this.#apiserver);
    await stopProcess(this.#etcd);
    if (!this.#keepDir && existsSync(this.dir)) rmSync(this.dir, { recursive: true, force: true });
    liveDirs.delete(this.dir);
  }
}

/** A child could not bind the port picked for it; start() retries with new ports. */
class PortRace extends Error {
  override readonly cause: unknown;
  constructor(cause: unknown) {
    super('port taken');
    this.cause = cause;
  }
}
