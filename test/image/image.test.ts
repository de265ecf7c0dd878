import { chmodSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { admissionReview, pod } from '../../src/http/testing/reviews.js';
import { RegistryClient } from '../../src/registry/index.js';
import { buildImage, docker, dockerBytes, requireDocker, tarEntries } from '../helpers/docker.js';
import { freePort } from '../helpers/registry/free-port.js';
import { ReferrersRegistry } from '../helpers/registry/referrers-registry.js';
import { pushImage, pushLayout } from '../helpers/registry/seed.js';
import { serverTls, type ServerTls } from '../helpers/registry/tls.js';
import { at, only, values } from '../packaging/helpers.js';

const ROOT = resolve(import.meta.dirname, '../..');
const EXAMPLES = join(ROOT, 'examples');
const TAG = 'portcullis:image-test';
/** "Within a few seconds": from `docker run` returning to /readyz answering 200. */
const READY_WITHIN_MS = 10_000;
/** Budget for the image (stand-in bases; the upstream distroless base is of the same size). */
const MAX_IMAGE_BYTES = 300 * 1000 * 1000;

type Obj = Record<string, any>;

/**
 * The container image, built here from the unchanged Dockerfile with stand-in base images
 * (scripts/image/build.sh) and run the way the chart runs it: the Deployment's user, read-only
 * root filesystem, dropped capabilities, no privilege escalation, /tmp as a size-limited tmpfs
 * (the emptyDir), the serving certificate and the chart's config.yaml mounted read-only at the
 * chart's paths, the chart's arguments. One change: `--kubernetes` becomes `--policies` with the
 * example policies mounted (no API server here; test/e2e/node runs the image in a cluster).
 * Host networking, so that the registry on the host's 127.0.0.1 is reachable; the server
 * listens on 127.0.0.1 only.
 */
describe('the container image, run as the chart runs it', () => {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-image-'));
  const name = `portcullis-image-test-${process.pid}`;
  let registry: ReferrersRegistry;
  let tls: ServerTls;
  let agent: Agent;
  let url: string;
  let signed: string;
  let unsigned: string;
  let readyMs: number;
  let deployment: Obj;
  let container: Obj;
  let terminationGraceSeconds: number;
  let config: string;

  const get = async (path: string) => {
    const res = await request(`${url}${path}`, { dispatcher: agent });
    return { status: res.statusCode, body: await res.body.text() };
  };
  const review = async (image: string, namespace: string) => {
    const res = await request(`${url}/validate?timeout=10s`, {
      method: 'POST',
      dispatcher: agent,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(admissionReview(pod({ containers: [['app', image]] }, namespace), { namespace })),
    });
    const body = (await res.body.json()) as { response: { allowed: boolean; status?: { message: string } } };
    return { httpStatus: res.statusCode, ...body.response };
  };

  beforeAll(async () => {
    requireDocker();
    const built = buildImage(TAG);

    // The chart's Deployment and config, as `helm template` renders them with default values.
    const docs = values();
    deployment = only(docs, 'Deployment');
    container = at(deployment, 'spec', 'template', 'spec', 'containers', 0);
    terminationGraceSeconds = at(deployment, 'spec', 'template', 'spec', 'terminationGracePeriodSeconds');
    config = at(only(docs, 'ConfigMap'), 'data', 'config.yaml');

    registry = await ReferrersRegistry.start();
    const client = new RegistryClient();
    await pushLayout(
      client,
      { registry: registry.host, repository: 'net-monitor' },
      join(EXAMPLES, 'net-monitor-layout'),
    );
    await pushImage(client, { registry: registry.host, repository: 'nginx' }, 'unsigned');
    await pushImage(client, { registry: registry.host, repository: 'slow' }, 'v1');
    await client.close();
    signed = `${registry.host}/net-monitor:v1`;
    unsigned = `${registry.host}/nginx:unsigned`;

    // What the chart mounts: the TLS Secret (mode 0644, as a Secret volume without defaultMode),
    // the config ConfigMap; and here the example policies in place of the API server.
    tls = serverTls('portcullis');
    for (const sub of ['tls', 'config', 'policies']) mkdirSync(join(dir, sub));
    writeFileSync(join(dir, 'tls', 'tls.crt'), tls.certPem);
    writeFileSync(join(dir, 'tls', 'tls.key'), tls.keyPem);
    writeFileSync(join(dir, 'config', 'config.yaml'), config);
    cpSync(join(EXAMPLES, 'policies'), join(dir, 'policies'), { recursive: true });
    for (const f of ['tls/tls.crt', 'tls/tls.key', 'config/config.yaml']) chmodSync(join(dir, f), 0o644);
    chmodSync(dir, 0o755);

    await built;
    const port = await freePort();
    const args = runArgs(port);
    const started = Date.now();
    await docker(['run', '--detach', '--name', name, ...args]);
    url = `https://127.0.0.1:${port}`;
    agent = new Agent({ connect: { ca: tls.caPem } });
    for (;;) {
      const ready = await get('/readyz').catch(() => undefined);
      if (ready?.status === 200) break;
      if (Date.now() - started > 60_000) {
        const logs = await docker(['logs', name], { allowFail: true });
        throw new Error(`not ready after 60 s:\n${logs.stdout}${logs.stderr}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    readyMs = Date.now() - started;
    process.stderr.write(`[image] ready ${readyMs} ms after docker run\n`);
  }, 20 * 60_000);

  afterAll(async () => {
    await docker(['rm', '--force', name], { allowFail: true });
    await agent?.close();
    await registry?.stop();
    tls?.pki.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  /** `docker run` flags from the chart's pod and container spec. */
  function runArgs(port: number): string[] {
    const podSpec = at(deployment, 'spec', 'template', 'spec');
    const podCtx = podSpec.securityContext as Obj;
    const ctx = container['securityContext'] as Obj;
    const user = ctx['runAsUser'] ?? podCtx['runAsUser'];
    const group = ctx['runAsGroup'] ?? podCtx['runAsGroup'];
    expect(user).toBe(65532);
    const flags = ['--network', 'host', '--user', `${user}:${group}`];
    if (ctx['readOnlyRootFilesystem'] === true) flags.push('--read-only');
    if (ctx['allowPrivilegeEscalation'] === false) flags.push('--security-opt', 'no-new-privileges');
    for (const cap of ctx['capabilities']?.drop ?? []) flags.push('--cap-drop', cap);
    for (const cap of ctx['capabilities']?.add ?? []) flags.push('--cap-add', cap);
    // seccomp RuntimeDefault is Docker's default profile.
    expect(ctx['seccompProfile']?.type ?? podCtx['seccompProfile']?.type).toBe('RuntimeDefault');
    const volumes = new Map<string, Obj>((podSpec.volumes as Obj[]).map((v) => [v['name'] as string, v]));
    const hostDirs: Record<string, string> = { tls: join(dir, 'tls'), config: join(dir, 'config') };
    for (const mount of container['volumeMounts'] as Obj[]) {
      const volume = volumes.get(mount['name']) as Obj;
      if (volume['emptyDir'] !== undefined) {
        const size = String(volume['emptyDir'].sizeLimit ?? '64Mi').replace(/Mi$/, 'm');
        flags.push('--tmpfs', `${mount['mountPath']}:rw,noexec,nosuid,size=${size},uid=${user},gid=${group}`);
      } else {
        const host = hostDirs[mount['name'] as string];
        expect(host, `a host directory for volume ${mount['name']}`).toBeDefined();
        flags.push('--volume', `${host}:${mount['mountPath']}:${mount['readOnly'] === true ? 'ro' : 'rw'}`);
      }
    }
    flags.push('--volume', `${join(dir, 'policies')}:/policies:ro`);
    for (const env of container['env'] as Obj[]) {
      // The downward API values the kubelet would fill in.
      const value =
        env['value'] ?? (env['valueFrom']?.fieldRef?.fieldPath === 'metadata.namespace' ? 'portcullis-system' : name);
      flags.push('--env', `${env['name']}=${value}`);
    }
    const chartArgs = (container['args'] as string[]).flatMap((a, i, all) => {
      if (a === '--kubernetes') return ['--policies', '/policies'];
      if (all[i - 1] === '--port') return [String(port)];
      return [a];
    });
    expect(chartArgs).toContain('--tls-cert');
    return [...flags, TAG, ...chartArgs, '--host', '127.0.0.1'];
  }

  it(`is ready within ${READY_WITHIN_MS / 1000} s of docker run, and /healthz, /readyz and /metrics answer`, async () => {
    expect(readyMs).toBeLessThan(READY_WITHIN_MS);
    expect(await get('/healthz')).toMatchObject({ status: 200 });
    expect(await get('/readyz')).toMatchObject({ status: 200 });
    const metrics = await get('/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.body).toContain('# TYPE portcullis_admission_decisions_total counter');
    expect(metrics.body).toContain('process_resident_memory_bytes');
  });

  it('runs as 65532 without capabilities, privilege escalation or a writable root filesystem', async () => {
    const inspect = JSON.parse((await docker(['inspect', name])).stdout)[0] as Obj;
    expect(inspect['Config'].User).toBe('65532:65532');
    expect(inspect['HostConfig'].ReadonlyRootfs).toBe(true);
    expect(inspect['HostConfig'].CapDrop).toEqual(['ALL']);
    // The process itself, as the kernel sees it.
    const status = readFileSync(`/proc/${inspect['State'].Pid}/status`, 'utf8');
    expect(/^Uid:\s+(\d+)\s+(\d+)/m.exec(status)?.slice(1)).toEqual(['65532', '65532']);
    expect(/^Gid:\s+(\d+)/m.exec(status)?.[1]).toBe('65532');
    expect(/^CapEff:\s+(\S+)/m.exec(status)?.[1]).toBe('0000000000000000');
    expect(/^CapBnd:\s+(\S+)/m.exec(status)?.[1]).toBe('0000000000000000');
    expect(/^NoNewPrivs:\s+(\d)/m.exec(status)?.[1]).toBe('1');
    expect(/^Seccomp:\s+(\d)/m.exec(status)?.[1]).toBe('2');
  });

  it('has no shell to exec into', async () => {
    for (const shell of ['/bin/sh', '/bin/bash', '/busybox/sh']) {
      const r = await docker(['exec', name, shell, '-c', 'true'], { allowFail: true });
      expect(r.code, shell).not.toBe(0);
      expect(r.stderr + r.stdout).toMatch(/no such file or directory|executable file not found/);
    }
  });

  it('allows a pod whose image is signed by the trusted signer, from a registry on the host', async () => {
    const r = await review(signed, 'secured');
    expect(r).toMatchObject({ httpStatus: 200, allowed: true });
  });

  it('denies an unsigned image, saying why', async () => {
    const r = await review(unsigned, 'secured');
    expect(r.allowed).toBe(false);
    expect(r.status?.message).toContain('ERR_NO_SIGNATURE');
    expect(r.status?.message).toContain(unsigned);
  });

  it('holds the production dependencies of package-lock.json and no development dependency', async () => {
    const created = (await docker(['create', TAG])).stdout.trim();
    let paths: string[];
    try {
      paths = tarEntries(await dockerBytes(['export', created])).map((e) => e.path);
    } finally {
      await docker(['rm', created], { allowFail: true });
    }
    const inApp = new Set(paths.filter((p) => p.startsWith('app/')).map((p) => p.slice('app/'.length)));
    // Every package directory under /app/node_modules (nested ones too), as package-lock names them.
    const installed = new Set(
      [...inApp]
        .filter((p) => p.endsWith('/package.json') && p.startsWith('node_modules/'))
        .map((p) => p.slice(0, -'/package.json'.length))
        .filter((p) => /(^|\/)node_modules\/(@[^/]+\/)?[^/@]+$/.test(p)),
    );
    const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { dev?: boolean; optional?: boolean; devOptional?: boolean }>;
    };
    const entries = Object.entries(lock.packages).filter(([p]) => p !== '');
    const dev = entries.filter(([, e]) => e.dev === true).map(([p]) => p);
    const prod = entries
      .filter(([, e]) => e.dev !== true && e.devOptional !== true && e.optional !== true)
      .map(([p]) => p);
    expect(dev.length).toBeGreaterThan(10);
    expect(dev.filter((p) => installed.has(p))).toEqual([]);
    expect(prod.filter((p) => !installed.has(p))).toEqual([]);
    expect([...installed].filter((p) => lock.packages[p] === undefined)).toEqual([]);
    for (const tool of ['typescript', 'vitest', 'eslint', 'tsx'])
      expect(installed.has(`node_modules/${tool}`), tool).toBe(false);
    // /app is the compiled code, package.json and node_modules; no sources, no tests.
    expect(new Set([...inApp].map((p) => p.split('/')[0]))).toEqual(new Set(['package.json', 'node_modules', 'dist']));
    expect(
      [...inApp].filter((p) => p.startsWith('dist/') && /\.test\.js$|\.ts$/.test(p) && !p.endsWith('.d.ts')),
    ).toEqual([]);
    expect(inApp.has('dist/cli/main.js')).toBe(true);
    // No shell and no package manager anywhere in the image.
    const names = paths.map((p) => p.split('/').pop());
    expect(names.filter((n) => n === 'sh' || n === 'bash' || n === 'dash' || n === 'busybox')).toEqual([]);
    expect(
      paths.filter((p) => /(^|\/)s?bin\/(npm|npx|apt|apt-get|dpkg)$/.test(p) || p.endsWith('node_modules/npm')),
    ).toEqual([]);
  });

  it(`is at most ${MAX_IMAGE_BYTES / 1e6} MB (reported in the README)`, async () => {
    const size = Number((await docker(['image', 'inspect', '--format', '{{.Size}}', TAG])).stdout.trim());
    process.stderr.write(`[image] ${TAG}: ${(size / 1e6).toFixed(0)} MB\n`);
    expect(size).toBeGreaterThan(50 * 1e6);
    expect(size).toBeLessThanOrEqual(MAX_IMAGE_BYTES);
  });

  // Last: it stops the container.
  it('on SIGTERM turns /readyz to 503, keeps serving, finishes the review in flight and exits 0 within the grace period', async () => {
    const delaySeconds = Number(/shutdownDelaySeconds:\s*(\d+)/.exec(config)?.[1]);
    const drainSeconds = Number(/shutdownTimeoutSeconds:\s*(\d+)/.exec(config)?.[1]);
    expect(delaySeconds + drainSeconds).toBeLessThan(terminationGraceSeconds);
    // A review the registry holds up: in flight when SIGTERM arrives.
    registry.fail({ match: (_m, path) => path.startsWith('/v2/slow/manifests/'), delayMs: 2000, times: 1 });
    const inFlight = review(`${registry.host}/slow:v1`, 'secured');
    await new Promise((r) => setTimeout(r, 500));
    const sigterm = Date.now();
    await docker(['kill', '--signal', 'TERM', name]);
    // The endpoint is being removed: not ready, but still serving reviews.
    let sawNotReady = false;
    while (Date.now() - sigterm < delaySeconds * 1000 - 500) {
      const r = await get('/readyz').catch(() => undefined);
      if (r?.status === 503) {
        sawNotReady = true;
        break;
      }
      await new Promise((res) => setTimeout(res, 100));
    }
    expect(sawNotReady).toBe(true);
    expect(await review(unsigned, 'secured')).toMatchObject({ httpStatus: 200, allowed: false });
    const answered = await inFlight;
    expect(answered.httpStatus).toBe(200);
    expect(answered.allowed).toBe(false); // slow:v1 is unsigned: a verdict, not a failure-policy answer
    expect(answered.status?.message).toContain('ERR_NO_SIGNATURE');
    const waited = await docker(['wait', name], { timeoutMs: terminationGraceSeconds * 1000 });
    const exitedAfter = Date.now() - sigterm;
    expect(Number(waited.stdout.trim())).toBe(0);
    expect(exitedAfter).toBeLessThan(terminationGraceSeconds * 1000);
    const state = JSON.parse((await docker(['inspect', name])).stdout)[0].State as Obj;
    expect(state['OOMKilled']).toBe(false);
    process.stderr.write(
      `[image] exited ${exitedAfter} ms after SIGTERM (grace period ${terminationGraceSeconds} s)\n`,
    );
  }, 120_000);
});
