/**
 * Child process of bench/webhook.ts, so the server and the load generator use different cores.
 * Mode `portcullis`: a local registry with signed images, policies trusting their signer, and
 * `portcullis serve` (logging at info level, as in production, into fd 3: a pipe that a separate
 * process drains). Mode `bare`: a fastify HTTPS server answering a fixed AdmissionReview response
 * (the baseline).
 * Mode `fake`: Portcullis's HTTP stack with an instant verifier. Modes `raw` (with
 * BATCH_WRITES=1: answers written per event-loop turn) and `bare` with BUSY_US: diagnostics for
 * bench/calibrate.ts.
 * The Portcullis server runs the compiled code in dist/ (what ships; `npm run bench` builds it):
 * tsx's on-the-fly transform adds a naming helper to every closure, which is not what production runs.
 * Protocol: prints one JSON line `{url, ca, images, fresh}` when ready; answers `stats` and
 * `reset` lines on stdin with a JSON line of registry request counts, `cpu` with the CPU time used.
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { createServer } from 'node:https';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import Fastify from 'fastify';
import { DEFAULT_SERVE_CONFIG } from '../src/config/serve-config.js';
import type { ImageDecision, ReviewDecisions, ReviewRequest } from '../src/executor/index.js';
import type * as ServeModule from '../src/cli/serve.js';
import type * as HttpModule from '../src/http/index.js';
import { ensureDevCertificate } from '../src/http/index.js';
import type * as LogModule from '../src/log/index.js';
import type * as MetricsModule from '../src/metrics/index.js';
import type * as WriteBatchModule from '../src/http/write-batch.js';
import { RegistryClient } from '../src/registry/index.js';
import { ConfigDir, cli } from '../test/helpers/cli.js';
import { ReferrersRegistry } from '../test/helpers/registry/referrers-registry.js';
import { pushImage } from '../test/helpers/registry/seed.js';

/** A module of the compiled server, typed as its source. */
async function shipped<T>(path: string): Promise<T> {
  return (await import(resolve(import.meta.dirname, '../dist', path))) as T;
}
const { createLogging } = await shipped<typeof LogModule>('log/index.js');
const { startWebhook } = await shipped<typeof ServeModule>('cli/serve.js');

const mode = process.argv[2];
/** The log lines go into a pipe on fd 3 that the parent drains (stdout, in a pod, is a pipe the runtime reads). */
const LOG_FD = 3;
/** Production logs at info; BENCH_LOG_LEVEL=silent shows what logging costs. */
const logLevel = (process.env.BENCH_LOG_LEVEL ?? 'info') as 'info' | 'silent';
const dir = mkdtempSync(join(tmpdir(), 'portcullis-bench-'));
const dev = await ensureDevCertificate(join(dir, 'cert'));
/** The local registry of mode `portcullis`, for the `stats` and `reset` commands. */
let registryLog: { readonly log: readonly { method: string; path: string }[]; resetLog(): void } | undefined;

if (mode === 'fake') {
  // Diagnostics: the real HTTP stack (app, metrics, logging, server) with an instant verifier.
  const { buildApp, startServer } = await shipped<typeof HttpModule>('http/index.js');
  const { PromMetrics } = await shipped<typeof MetricsModule>('metrics/index.js');
  const { verifiedDecision } = await import('../src/http/testing/fake-verifier.js');
  // Instant, and like the executor on a warm cache it decides at once (no wait, no deadline
  // timer). Not FakeVerifier: it records every call, which grows the heap under load.
  const instant = {
    ready: (): boolean => true,
    decide: (review: ReviewRequest): ReviewDecisions =>
      new Map(review.images.map((image): [string, ImageDecision] => [image, verifiedDecision(image)])),
  };
  const logging = createLogging({ level: logLevel, fd: LOG_FD });
  const logger = logging.logger;
  const app = buildApp({ verifier: instant, metrics: new PromMetrics(), logger, reviewLog: logging.lines });
  const server = await startServer(app, {
    port: 0,
    host: '127.0.0.1',
    logger,
    tls: { certFile: dev.certFile, keyFile: dev.keyFile },
  });
  console.log(JSON.stringify({ url: server.url, ca: dev.caFile, images: [], fresh: [] }));
} else if (mode === 'raw') {
  const fixed = JSON.stringify({
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    response: { uid: 'x', allowed: true },
  });
  const send = (res: ServerResponse): void => {
    res.writeHead(200, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(fixed),
    });
    res.end(fixed);
  };
  // BATCH_WRITES=1: answers written per event-loop turn, as Portcullis writes them.
  const { WriteBatch } = await shipped<typeof WriteBatchModule>('http/write-batch.js');
  const batch = process.env.BATCH_WRITES === '1' ? new WriteBatch<ServerResponse>(send) : undefined;
  const server = createServer(
    { cert: readFileSync(dev.certFile), key: readFileSync(dev.keyFile), minVersion: 'TLSv1.3' },
    (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        JSON.parse(Buffer.concat(chunks).toString('utf8'));
        if (batch === undefined) send(res);
        else batch.add(res);
      });
    },
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  console.log(JSON.stringify({ url: `https://127.0.0.1:${port}`, ca: dev.caFile, images: [], fresh: [] }));
} else if (mode === 'bare') {
  const fixed = JSON.stringify({
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    response: { uid: 'x', allowed: true },
  });
  const app = Fastify({ logger: false, bodyLimit: 4 * 1024 * 1024 });
  const busyUs = Number(process.env.BUSY_US ?? 0);
  app.post('/validate', async (_req, reply) => {
    if (busyUs > 0) {
      const end = performance.now() + busyUs / 1000;
      while (performance.now() < end);
    }
    return reply.type('application/json').send(fixed);
  });
  await app.ready();
  const server = createServer(
    { cert: readFileSync(dev.certFile), key: readFileSync(dev.keyFile), minVersion: 'TLSv1.3' },
    (req, res) => app.routing(req, res),
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  console.log(JSON.stringify({ url: `https://127.0.0.1:${port}`, ca: dev.caFile, images: [], fresh: [] }));
} else {
  const registry = await ReferrersRegistry.start();
  const signer = new ConfigDir();
  await cli(['cert', 'generate-test', '--config-dir', signer.path, '--key-type', 'ec', '--default', 'bench']);
  const client = new RegistryClient();
  const sign = async (name: string): Promise<string> => {
    await pushImage(client, { registry: registry.host, repository: name }, 'v1', name);
    const ref = `${registry.host}/${name}:v1`;
    const r = await cli(['sign', '--config-dir', signer.path, ref]);
    if (r.status !== 0) throw new Error(r.stderr);
    return ref;
  };
  const images = [await sign('app-a'), await sign('app-b'), await sign('app-c')];
  const fresh: string[] = [];
  for (let i = 0; i < 8; i++) fresh.push(await sign(`fresh-${i}`));
  await client.close();
  const policies = join(dir, 'policies');
  mkdirSync(policies);
  const pem = readFileSync(join(signer.path, 'localkeys/bench.crt'), 'utf8');
  writeFileSync(
    join(policies, 'baseline.yaml'),
    `apiVersion: portcullis.dev/v1alpha1
kind: ClusterTrustStore
metadata: { name: bench }
spec:
  type: ca
  certificates: |
${pem
  .trim()
  .split('\n')
  .map((l) => `    ${l}`)
  .join('\n')}
---
apiVersion: portcullis.dev/v1alpha1
kind: ClusterTrustPolicy
metadata: { name: baseline }
spec:
  version: "1.0"
  trustPolicies:
    - name: all
      registryScopes: ["*"]
      signatureVerification: { level: strict }
      trustStores: ["ca:bench"]
      trustedIdentities: ["*"]
`,
  );
  const webhook = await startWebhook({
    policies,
    port: 0,
    host: '127.0.0.1',
    devCertDir: join(dir, 'cert'),
    config: {
      ...DEFAULT_SERVE_CONFIG,
      verification: { ...DEFAULT_SERVE_CONFIG.verification, revocation: 'offline' },
      logging: { level: logLevel },
    },
    // As in production (src/cli/serve.ts): JSON lines into a pipe that another process reads.
    logFd: LOG_FD,
  });
  console.log(JSON.stringify({ url: webhook.url, ca: dev.caFile, images, fresh }));
  registryLog = registry;
}

const lines = createInterface({ input: process.stdin });
for await (const line of lines) {
  if (line === 'quit') process.exit(0);
  if (line === 'prof-start' || line === 'prof-stop') {
    // Steady-state CPU profile (bench diagnostics): written to $PORTCULLIS_PROFILE.
    const { Session } = await import('node:inspector/promises');
    const g = globalThis as { __session?: InstanceType<typeof Session> };
    if (line === 'prof-start') {
      g.__session = new Session();
      g.__session.connect();
      await g.__session.post('Profiler.enable');
      await g.__session.post('Profiler.start');
    } else if (g.__session !== undefined) {
      const { profile } = (await g.__session.post('Profiler.stop')) as { profile: unknown };
      writeFileSync(process.env.PORTCULLIS_PROFILE ?? 'webhook.cpuprofile', JSON.stringify(profile));
    }
  }
  if (line === 'cpu') {
    // CPU time this process has used (user + system, µs), for CPU cost per request.
    const u = process.cpuUsage();
    console.log(JSON.stringify({ cpuMicros: u.user + u.system }));
    continue;
  }
  if (line === 'reset') registryLog?.resetLog();
  const log = registryLog?.log ?? [];
  const counts: Record<string, number> = {};
  for (const e of log) {
    const key = `${e.method} ${e.path.replace(/sha256:[0-9a-f]+/g, '<digest>').replace(/\/v2\/[^/]+\//, '/v2/<repo>/')}`;
    counts[key] = (counts[key] ?? 0) + 1;
  }
  console.log(JSON.stringify({ total: log.length, counts }));
}
