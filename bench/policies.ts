import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Agent, request } from 'undici';
import { stringify } from 'yaml';
import { KubeCluster } from '../test/helpers/kube/cluster.js';
import { startServeProcess, type ServeProcess } from '../test/helpers/serve-process.js';

/**
 * Many policies (issue 18, item 4): N namespaces, each with a TrustStore and a TrustPolicy, on
 * the real API server (kube-apiserver 1.20 + etcd, test/helpers/kube/cluster.ts). A fresh
 * `portcullis serve --kubeconfig` (dist/, its own process, default settings): time to /readyz,
 * time until every TrustStore and TrustPolicy shows its current Ready condition, the status
 * writes the API server counted, RSS; a restart over current statuses (writes nothing); and the
 * same policies from a directory (time to ready, RSS). `BENCH_POLICIES=N` (default 2000).
 */

const ROOT = resolve(import.meta.dirname, '..');
const GROUP = '/apis/portcullis.dev/v1alpha1';

export interface ServeRun {
  readonly readyMs: number;
  /** Until every store and policy shows Ready=True for its generation; undefined for a directory. */
  readonly statusesMs: number | undefined;
  /** Status PATCH requests the API server answered during the run. */
  readonly statusWrites: number | undefined;
  /** RSS when everything was current, and SETTLE_MS later (MiB): V8 gives memory back some seconds after a burst. */
  readonly rssMiB: number;
  readonly rssSettledMiB: number;
  /** Peak RSS (VmHWM). */
  readonly peakMiB: number;
  /** V8's heap in use and reserved, and memory outside it (the server's own /metrics), at the end. */
  readonly heapUsedMiB: number;
  readonly heapTotalMiB: number;
  readonly externalMiB: number;
}

async function heapOf(
  server: ServeProcess,
): Promise<{ heapUsedMiB: number; heapTotalMiB: number; externalMiB: number }> {
  const text = (await server.get('/metrics')).text;
  const value = (name: string): number => {
    const line = text.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
    return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(' ') + 1)) / 1048576;
  };
  return {
    heapUsedMiB: value('portcullis_nodejs_heap_size_used_bytes'),
    heapTotalMiB: value('portcullis_nodejs_heap_size_total_bytes'),
    externalMiB: value('portcullis_nodejs_external_memory_bytes'),
  };
}

export interface PoliciesBench {
  readonly count: number;
  readonly createMs: number;
  readonly fromApi: ServeRun;
  /** Started again once every status was current: nothing to write. */
  readonly restart: ServeRun;
  readonly fromDirectory: ServeRun;
}

const mib = (kb: number): number => kb / 1024;

function procStatus(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m === null ? 0 : mib(Number(m[1]));
}

function testCa(dir: string): string {
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-subj',
      '/CN=scale test CA/O=Portcullis',
      '-days',
      '30',
      '-keyout',
      join(dir, 'ca.key'),
      '-out',
      join(dir, 'ca.crt'),
    ],
    { stdio: 'ignore' },
  );
  return readFileSync(join(dir, 'ca.crt'), 'utf8');
}

/** The objects of namespace i: the Namespace, its TrustStore and its TrustPolicy. */
function objectsOf(i: number, pem: string): { namespace: object; store: object; policy: object } {
  const ns = `scale-${String(i).padStart(5, '0')}`;
  return {
    namespace: {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: ns, labels: { 'kubernetes.io/metadata.name': ns } },
    },
    store: {
      apiVersion: 'portcullis.dev/v1alpha1',
      kind: 'TrustStore',
      metadata: { name: 'signers', namespace: ns },
      spec: { type: 'ca', certificates: pem },
    },
    policy: {
      apiVersion: 'portcullis.dev/v1alpha1',
      kind: 'TrustPolicy',
      metadata: { name: 'policy', namespace: ns },
      spec: {
        version: '1.0',
        trustPolicies: [
          {
            name: `team-${i}`,
            registryScopes: ['*'],
            signatureVerification: { level: 'strict' },
            trustStores: ['ca:signers'],
            trustedIdentities: ['*'],
          },
        ],
      },
    },
  };
}

export class Api {
  readonly #agent: Agent;
  constructor(
    readonly cluster: KubeCluster,
    connections = 16,
  ) {
    this.#agent = new Agent({ connect: { ca: readFileSync(cluster.caFile, 'utf8') }, connections });
  }
  async call(method: 'GET' | 'POST', path: string, body?: unknown): Promise<{ status: number; text: string }> {
    const res = await request(`${this.cluster.server}${path}`, {
      method,
      dispatcher: this.#agent,
      headers: {
        authorization: `Bearer ${this.cluster.token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.statusCode, text: await res.body.text() };
  }
  async create(path: string, body: unknown): Promise<void> {
    const r = await this.call('POST', path, body);
    if (r.status !== 201 && r.status !== 409) throw new Error(`POST ${path}: ${r.status} ${r.text.slice(0, 300)}`);
  }
  /**
   * Watches kind `plural` (all namespaces) from `resourceVersion` and resolves when every one of
   * `names` shows Ready=True for its generation: the API server sends each change once, where
   * polling lists would make it encode thousands of objects over and over (on a shared machine).
   */
  async watchUntilCurrent(
    plural: string,
    state: Map<string, boolean>,
    resourceVersion: string,
    signal: AbortSignal,
  ): Promise<void> {
    const res = await request(
      `${this.cluster.server}${GROUP}/${plural}?watch=1&resourceVersion=${resourceVersion}&allowWatchBookmarks=false`,
      { dispatcher: this.#agent, headers: { authorization: `Bearer ${this.cluster.token}` }, signal },
    );
    let buffer = '';
    for await (const chunk of res.body as AsyncIterable<Buffer>) {
      buffer += chunk.toString('utf8');
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        if (line.trim() === '') continue;
        const event = JSON.parse(line) as { type: string; object: any };
        if (event.type !== 'ADDED' && event.type !== 'MODIFIED') continue;
        state.set(
          `${plural}/${event.object.metadata.namespace}/${event.object.metadata.name}`,
          isCurrent(event.object),
        );
        if ([...state.values()].every(Boolean)) {
          res.body.destroy();
          return;
        }
      }
    }
  }

  /** The objects of kind `plural` now, whether each is current, and the list's resourceVersion. */
  async snapshot(plural: string): Promise<{ state: Map<string, boolean>; resourceVersion: string }> {
    const r = await this.call('GET', `${GROUP}/${plural}`);
    const list = JSON.parse(r.text) as { items: any[]; metadata: { resourceVersion: string } };
    const state = new Map<string, boolean>();
    for (const item of list.items)
      state.set(`${plural}/${item.metadata.namespace}/${item.metadata.name}`, isCurrent(item));
    return { state, resourceVersion: list.metadata.resourceVersion };
  }

  /** Status PATCH requests of our kinds the API server has answered (its own metrics). */
  async statusPatches(): Promise<number> {
    const r = await this.call('GET', '/metrics');
    let sum = 0;
    for (const line of r.text.split('\n')) {
      if (!line.startsWith('apiserver_request_total{')) continue;
      if (!line.includes('verb="PATCH"') || !line.includes('subresource="status"')) continue;
      if (!line.includes('group="portcullis.dev"')) continue;
      sum += Number(line.slice(line.lastIndexOf(' ') + 1));
    }
    return sum;
  }
  close(): Promise<void> {
    return this.#agent.close();
  }
}

async function pool<T>(items: readonly T[], width: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) await work(items[next++] as T);
    }),
  );
}

const SETTLE_MS = Number(process.env.BENCH_POLICIES_SETTLE_MS ?? 30_000);

const SERVE_CONFIG = {
  webhook: { shutdownDelaySeconds: 0, shutdownTimeoutSeconds: 5 },
  verification: { revocation: 'offline' },
  logging: { level: 'warn' },
};

async function untilReady(server: ServeProcess, t0: number): Promise<number> {
  for (;;) {
    if ((await server.get('/readyz')).status === 200) return performance.now() - t0;
    if (performance.now() - t0 > 120_000) throw new Error(`not ready after 120 s: ${server.stderr().slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function isCurrent(item: any): boolean {
  const ready = (item.status?.conditions ?? []).find((c: any) => c.type === 'Ready');
  return ready?.status === 'True' && ready.observedGeneration === item.metadata.generation;
}

/** Until every store and policy is current (watched from the list made before the server started). */
async function untilStatusesCurrent(
  api: Api,
  lists: readonly { plural: string; state: Map<string, boolean>; resourceVersion: string }[],
  t0: number,
  limitMs: number,
): Promise<number> {
  const signal = AbortSignal.timeout(limitMs);
  await Promise.all(
    lists.map((l) =>
      [...l.state.values()].every(Boolean)
        ? undefined
        : api.watchUntilCurrent(l.plural, l.state, l.resourceVersion, signal),
    ),
  );
  return performance.now() - t0;
}

async function serveRun(
  api: Api | undefined,
  count: number,
  source: { kubeconfig: string } | { policies: string },
  config: Record<string, unknown> = {},
  companions: number = 0,
): Promise<ServeRun> {
  const before = api === undefined ? 0 : await api.statusPatches();
  const lists =
    api === undefined
      ? []
      : await Promise.all(
          ['truststores', 'trustpolicies'].map(async (plural) => ({ plural, ...(await api.snapshot(plural)) })),
        );
  if (lists.some((l) => l.state.size !== count)) throw new Error(`expected ${count} of each kind in the cluster`);
  const t0 = performance.now();
  const start = (extra: Record<string, unknown>): Promise<ServeProcess> =>
    startServeProcess({
      compiled: true,
      ...(process.env.BENCH_SERVE_MAIN === undefined ? {} : { main: process.env.BENCH_SERVE_MAIN }),
      ...source,
      // BENCH_POLICIES_KUBERNETES: JSON settings of `kubernetes` (trying other request budgets).
      config: {
        ...SERVE_CONFIG,
        ...config,
        ...extra,
        kubernetes: {
          ...JSON.parse(process.env.BENCH_POLICIES_KUBERNETES ?? '{}'),
          ...(extra['kubernetes'] as Record<string, unknown> | undefined),
        },
      },
      log: 'ignore',
    });
  // Companions: further replicas with status writing off (not the leader).
  const servers = await Promise.all([
    start({}),
    ...Array.from({ length: companions }, () => start({ kubernetes: { writeStatus: false } })),
  ]);
  const server = servers[0] as ServeProcess;
  try {
    const readyMs = await untilReady(server, t0);
    const statusesMs = api === undefined ? undefined : await untilStatusesCurrent(api, lists, t0, 900_000);
    const pid = server.process.pid as number;
    const rssMiB = procStatus(pid, 'VmRSS');
    await new Promise((r) => setTimeout(r, SETTLE_MS));
    const rssSettledMiB = procStatus(pid, 'VmRSS');
    const peakMiB = procStatus(pid, 'VmHWM');
    const statusWrites = api === undefined ? undefined : (await api.statusPatches()) - before;
    return { readyMs, statusesMs, statusWrites, rssMiB, rssSettledMiB, peakMiB, ...(await heapOf(server)) };
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
  }
}

/** Creates the CRDs and `count` namespaces with their objects; writes the same as files for the directory source. */
export async function preparePolicies(
  cluster: KubeCluster,
  count: number,
): Promise<{ api: Api; policies: string; createMs: number; cleanup(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-bench-policies-'));
  const api = new Api(cluster);
  const pem = testCa(dir);
  const crds = await cluster.kubectl(['apply', '-k', join(ROOT, 'deploy/crds')]);
  if (crds.code !== 0) throw new Error(crds.stderr);
  await cluster.kubectl(['wait', '--for=condition=Established', 'crd', '--all', '--timeout=30s']);
  const all = Array.from({ length: count }, (_, i) => objectsOf(i, pem));
  const t0 = performance.now();
  await pool(all, 16, async (o) => {
    const ns = (o.namespace as { metadata: { name: string } }).metadata.name;
    await api.create('/api/v1/namespaces', o.namespace);
    await api.create(`${GROUP}/namespaces/${ns}/truststores`, o.store);
    await api.create(`${GROUP}/namespaces/${ns}/trustpolicies`, o.policy);
  });
  const createMs = performance.now() - t0;
  // The same objects as files, for the directory source.
  const policies = join(dir, 'policies');
  mkdirSync(policies);
  writeFileSync(
    join(policies, 'all.yaml'),
    all.map((o) => [o.namespace, o.store, o.policy].map((d) => stringify(d)).join('---\n')).join('---\n'),
  );
  return {
    api,
    policies,
    createMs,
    async cleanup() {
      await api.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function benchPolicies(count = Number(process.env.BENCH_POLICIES ?? 2000)): Promise<PoliciesBench> {
  const cluster = await KubeCluster.start();
  let prepared: Awaited<ReturnType<typeof preparePolicies>> | undefined;
  try {
    prepared = await preparePolicies(cluster, count);
    const { api, policies, createMs } = prepared;
    const kube = { kubeconfig: cluster.kubeconfig };
    const fromApi = await serveRun(api, count, kube);
    const restart = await serveRun(api, count, kube);
    const fromDirectory = await serveRun(undefined, count, { policies });
    return { count, createMs, fromApi, restart, fromDirectory };
  } finally {
    await prepared?.cleanup();
    await cluster.stop();
  }
}

const s = (ms: number | undefined): string => (ms === undefined ? '-' : `${(ms / 1000).toFixed(1)} s`);

export function printPolicies(b: PoliciesBench): void {
  console.log(
    `Many policies: ${b.count} namespaces, each with a TrustStore and a TrustPolicy, on kube-apiserver 1.20 (created in ${s(b.createMs)})`,
  );
  const line = (name: string, r: ServeRun, goals: string): void =>
    console.log(
      `  ${name.padEnd(22)} ready ${s(r.readyMs).padStart(7)}   all statuses current ${s(r.statusesMs).padStart(7)}   status writes ${String(
        r.statusWrites ?? '-',
      ).padStart(
        5,
      )}   RSS ${r.rssMiB.toFixed(0)} MiB (${SETTLE_MS / 1000} s later ${r.rssSettledMiB.toFixed(0)}, peak ${r.peakMiB.toFixed(0)}; heap ${r.heapUsedMiB.toFixed(0)} of ${r.heapTotalMiB.toFixed(0)}, external ${r.externalMiB.toFixed(0)})${goals}`,
    );
  const statusGoal = (b.fromApi.statusesMs ?? Infinity) <= 30_000;
  line('from the API', b.fromApi, `   goal: statuses ≤ 30 s ${statusGoal ? 'OK' : 'NOT MET'}`);
  line('restarted', b.restart, `   goal: 0 writes ${b.restart.statusWrites === 0 ? 'OK' : 'NOT MET'}`);
  line('from a directory', b.fromDirectory, '');
  const extra = b.fromApi.rssSettledMiB - b.fromDirectory.rssSettledMiB;
  console.log(
    `  RSS from the API − from a directory: ${extra.toFixed(0)} MiB (goal ≤ 50 MiB) ${extra <= 50 ? 'OK' : 'NOT MET'}`,
  );
}
