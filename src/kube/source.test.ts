import { readFileSync } from 'node:fs';
import { type KubernetesObject, KubeConfig } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import type { PolicySnapshot } from '../policyset/types.js';
import type { TrimmedObject } from './objects.js';
import {
  KubernetesPolicySource,
  type FeedDescription,
  type InformerHooks,
  type KubeInformer,
  type KubernetesPolicySourceOptions,
} from './source.js';

// The cluster source's logic with fake informers (the real ones are exercised against a real API
// server in test/kube/source.test.ts): readiness, debounce, emit-on-change, limits, retries.

const PEM = readFileSync(new URL('../../examples/config/truststore/x509/ca/e2e/e2e.crt', import.meta.url), 'utf8');

type Callback = (arg?: any) => void;

class FakeInformer implements KubeInformer {
  readonly feed: FeedDescription;
  readonly hooks: InformerHooks;
  readonly #objects = new Map<string, KubernetesObject>();
  readonly #handlers = new Map<string, Callback[]>();
  starts = 0;
  stops = 0;
  /** start() reports this error through the error handlers (as ListWatch does for a failed list). */
  failStartWith: Error | undefined;

  constructor(feed: FeedDescription, hooks: InformerHooks) {
    this.feed = feed;
    this.hooks = hooks;
  }
  on(verb: string, cb: Callback): void {
    this.#handlers.set(verb, [...(this.#handlers.get(verb) ?? []), cb]);
  }
  off(verb: string, cb: Callback): void {
    this.#handlers.set(
      verb,
      (this.#handlers.get(verb) ?? []).filter((c) => c !== cb),
    );
  }
  async start(): Promise<void> {
    this.starts += 1;
    if (this.failStartWith !== undefined) this.#emit('error', this.failStartWith);
  }
  async stop(): Promise<void> {
    this.stops += 1;
  }
  get(name: string, namespace?: string): KubernetesObject | undefined {
    return this.#objects.get(`${namespace ?? ''}/${name}`);
  }
  list(): readonly KubernetesObject[] {
    return [...this.#objects.values()];
  }
  #emit(verb: string, arg?: unknown): void {
    for (const cb of this.#handlers.get(verb) ?? []) cb(arg);
  }
  /** A complete list, as the informer's list function returns it. */
  listed(items: readonly unknown[] = []): void {
    this.#objects.clear();
    for (const item of items) {
      const trimmed = this.hooks.trim(item);
      if (trimmed !== undefined)
        this.#objects.set(`${trimmed.metadata?.namespace ?? ''}/${trimmed.metadata?.name}`, trimmed);
    }
    this.hooks.onListed();
  }
  put(item: unknown): void {
    const trimmed = this.hooks.trim(item) as KubernetesObject;
    const key = `${trimmed.metadata?.namespace ?? ''}/${trimmed.metadata?.name}`;
    const had = this.#objects.has(key);
    this.#objects.set(key, trimmed);
    this.#emit(had ? 'update' : 'add', trimmed);
  }
  remove(namespace: string | undefined, name: string): void {
    const key = `${namespace ?? ''}/${name}`;
    const object = this.#objects.get(key);
    this.#objects.delete(key);
    this.#emit('delete', object);
  }
  fail(error: Error): void {
    this.#emit('error', error);
  }
}

const sources: KubernetesPolicySource[] = [];
afterEach(async () => {
  for (const s of sources.splice(0)) await s.stop();
});

function setup(options: Partial<KubernetesPolicySourceOptions> = {}) {
  const informers = new Map<string, FakeInformer>();
  const snapshots: PolicySnapshot[] = [];
  const reconciled: { snapshot: PolicySnapshot; objects: readonly TrimmedObject[] }[] = [];
  const statusChanges: { snapshot: PolicySnapshot; object: TrimmedObject }[] = [];
  const errors: string[] = [];
  const source = new KubernetesPolicySource({
    kubeConfig: new KubeConfig(),
    debounceMs: 20,
    retryInitialMs: 10,
    retryMaxMs: 40,
    onError: (e) => errors.push(e.message),
    onReconcile: (snapshot, objects) => reconciled.push({ snapshot, objects }),
    onStatusChange: (snapshot, object) => statusChanges.push({ snapshot, object }),
    informerFactory: (feed, hooks) => {
      const informer = new FakeInformer(feed, hooks);
      informers.set(feed.kind, informer);
      return informer;
    },
    ...options,
  });
  sources.push(source);
  const informer = (kind: string): FakeInformer => informers.get(kind) as FakeInformer;
  const listAll = (): void => {
    for (const i of informers.values()) i.listed();
  };
  return { source, informers, informer, snapshots, reconciled, statusChanges, errors, listAll };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function policy(
  name: string,
  namespace: string,
  store = 'ca:roots',
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    apiVersion: 'portcullis.dev/v1alpha1',
    kind: 'TrustPolicy',
    metadata: {
      name,
      namespace,
      uid: `uid-${name}`,
      resourceVersion: '1',
      generation: 1,
      managedFields: [{ manager: 'kubectl' }],
      annotations: { big: 'x'.repeat(100) },
    },
    spec: {
      version: '1.0',
      trustPolicies: [
        {
          name: 'p',
          registryScopes: ['*'],
          signatureVerification: { level: 'strict' },
          trustStores: [store],
          trustedIdentities: ['*'],
        },
      ],
    },
    ...extra,
  };
}

const clusterStore = (rv = '1', extra: Record<string, unknown> = {}) => ({
  apiVersion: 'portcullis.dev/v1alpha1',
  kind: 'ClusterTrustStore',
  metadata: { name: 'roots', uid: 'uid-roots', resourceVersion: rv, generation: 1 },
  spec: { type: 'ca', certificates: PEM },
  ...extra,
});

async function waitFor<T>(probe: () => T | undefined, timeoutMs = 2000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('timed out');
    await sleep(5);
  }
}

describe('KubernetesPolicySource (fake informers)', () => {
  it('watches the four kinds, Namespaces and the labelled Secrets and ConfigMaps', async () => {
    const { source, informers } = setup();
    await source.start(() => undefined);
    expect([...informers.keys()].sort()).toEqual([
      'ClusterTrustPolicy',
      'ClusterTrustStore',
      'ConfigMap',
      'Namespace',
      'Secret',
      'TrustPolicy',
      'TrustStore',
    ]);
    expect(informers.get('TrustPolicy')?.feed.path).toMatch(
      /^\/apis\/portcullis\.dev\/v1alpha1\/trustpolicies\?timeoutSeconds=\d+&allowWatchBookmarks=true$/,
    );
    expect(informers.get('Secret')?.feed.labelSelector).toBe('portcullis.dev/trust-material=true');
    expect(informers.get('ConfigMap')?.feed.labelSelector).toBe('portcullis.dev/trust-material=true');
    expect(informers.get('Namespace')?.feed.labelSelector).toBeUndefined();
    for (const i of informers.values()) expect(i.starts).toBe(1);
  });

  it('is not ready and has no snapshot until every informer has listed once', async () => {
    const { source, informers, snapshots } = setup();
    await source.start((s) => snapshots.push(s));
    const all = [...informers.values()];
    for (const i of all.slice(0, -1)) i.listed();
    await sleep(60);
    expect(source.ready()).toBe(false);
    expect(source.current()).toBeUndefined();
    const ready = source.whenReady();
    all.at(-1)?.listed();
    await ready;
    expect(source.ready()).toBe(true);
    expect(snapshots).toHaveLength(1);
    expect(snapshots[0]?.documents).toEqual([]);
    expect(snapshots[0]?.revision).toBe(1);
  });

  it('debounces a burst of changes into one snapshot and emits only when the content changed', async () => {
    const { source, informer, snapshots, listAll, reconciled, statusChanges } = setup();
    await source.start((s) => snapshots.push(s));
    listAll();
    await source.whenReady();
    informer('ClusterTrustStore').put(clusterStore());
    for (let i = 0; i < 5; i++) informer('TrustPolicy').put(policy(`p${i}`, 'team-a'));
    await waitFor(() => (snapshots.length === 2 ? true : undefined));
    await sleep(60);
    expect(snapshots).toHaveLength(2);
    expect(snapshots[1]?.documents.map((d) => d.id.name)).toEqual(['p0', 'p1', 'p2', 'p3', 'p4']);

    // A status write (new resourceVersion and status, same generation) rebuilds nothing: the
    // status writer is handed that one object, with its status.
    const reconciledBefore = reconciled.length;
    informer('TrustPolicy').put(
      policy('p0', 'team-a', 'ca:roots', {
        metadata: { name: 'p0', namespace: 'team-a', resourceVersion: '2', generation: 1 },
        status: { conditions: [] },
      }),
    );
    informer('ClusterTrustStore').put(
      clusterStore('7', { status: { conditions: [{ type: 'Ready', status: 'True' }] } }),
    );
    await waitFor(() => (statusChanges.length === 2 ? true : undefined));
    await sleep(150); // past the debounce: no rebuild came
    expect(snapshots).toHaveLength(2);
    expect(reconciled.length).toBe(reconciledBefore);
    expect(statusChanges.map((c) => c.snapshot)).toEqual([snapshots[1], snapshots[1]]);
    expect(statusChanges.find((c) => c.object.kind === 'ClusterTrustStore')?.object.status).toEqual({
      conditions: [{ type: 'Ready', status: 'True' }],
    });

    // A spec change emits a new snapshot with a higher revision.
    informer('TrustPolicy').remove('team-a', 'p4');
    await waitFor(() => (snapshots.length === 3 ? true : undefined));
    expect(snapshots[2]?.revision).toBeGreaterThan(snapshots[1]?.revision as number);
    expect(snapshots[2]?.documents).toHaveLength(4);
  });

  it('keeps only what it reads: no managedFields, annotations or Secret type in the cache', async () => {
    const { source, informer, listAll } = setup();
    await source.start(() => undefined);
    listAll();
    informer('TrustPolicy').put(policy('p', 'team-a'));
    informer('Secret').put({
      metadata: { name: 's', namespace: 'team-a', resourceVersion: '3', annotations: { a: 'b' } },
      type: 'Opaque',
      data: { 'ca.crt': 'AAAA' },
    });
    const cached = informer('TrustPolicy').list()[0] as TrimmedObject;
    expect(cached.metadata).toEqual({
      name: 'p',
      namespace: 'team-a',
      uid: 'uid-p',
      resourceVersion: '1',
      generation: 1,
    });
    expect(Object.keys(cached).sort()).toEqual(['apiVersion', 'kind', 'metadata', 'spec']);
    expect(informer('Secret').list()[0]).toEqual({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 's', namespace: 'team-a', resourceVersion: '3' },
      data: { 'ca.crt': 'AAAA' },
    });
  });

  it('caps the objects of a kind: policies beyond the limit block every namespace', async () => {
    const { source, informer, snapshots, listAll } = setup({ maxObjectsPerKind: 2 });
    await source.start((s) => snapshots.push(s));
    listAll();
    informer('ClusterTrustStore').put(clusterStore());
    for (const name of ['a', 'b', 'c']) informer('TrustPolicy').put(policy(name, 'team-a'));
    const snapshot = await waitFor(() => snapshots.find((s) => s.invalid.length > 0));
    expect(snapshot.documents.map((d) => d.id.name)).toEqual(['a', 'b']);
    expect(snapshot.invalid).toHaveLength(1);
    expect(snapshot.invalid[0]).toMatchObject({
      code: 'ERR_SIZE_LIMIT',
      blocks: { kind: 'all' },
      enforcementAction: 'deny',
    });
    expect(snapshot.invalid[0]?.reason).toContain(
      '3 trustpolicies, more than the limit of 2; team-a/c and the 0 after it',
    );
    expect(snapshot.invalidFor('anything')).toHaveLength(1);
  });

  it('reports an object over the size limit instead of reading it', async () => {
    const { source, informer, snapshots, listAll } = setup({ maxObjectBytes: 4096 });
    await source.start((s) => snapshots.push(s));
    listAll();
    informer('ClusterTrustStore').put(clusterStore());
    const big = policy('big', 'team-b');
    (big['spec'] as Record<string, unknown>)['trustPolicies'] = [
      {
        name: 'x'.repeat(5000),
        registryScopes: ['*'],
        signatureVerification: { level: 'strict' },
        trustStores: ['ca:roots'],
        trustedIdentities: ['*'],
      },
    ];
    informer('TrustPolicy').put(big);
    const snapshot = await waitFor(() => snapshots.find((s) => s.invalid.length > 0));
    expect(snapshot.invalid[0]).toMatchObject({
      id: { kind: 'TrustPolicy', namespace: 'team-b', name: 'big' },
      code: 'ERR_SIZE_LIMIT',
      blocks: { kind: 'namespace', namespace: 'team-b' },
    });
    expect((informer('TrustPolicy').list()[0] as TrimmedObject).spec).toBeUndefined();
  });

  it('restarts a failed informer with backoff, keeps the snapshot meanwhile, and stops retrying after stop()', async () => {
    const { source, informer, errors, listAll } = setup();
    await source.start(() => undefined);
    listAll();
    await source.whenReady();
    const snapshot = source.current();
    const feed = informer('TrustPolicy');
    feed.failStartWith = new Error('connection refused');
    feed.fail(new Error('watch lost'));
    await waitFor(() => (feed.starts >= 4 ? true : undefined));
    expect(errors.some((e) => e.includes('trustpolicies: watch failed (watch lost); retrying in'))).toBe(true);
    expect(errors.some((e) => e.includes('the last snapshot stays in force'))).toBe(true);
    expect(source.ready()).toBe(true);
    expect(source.current()).toBe(snapshot);
    expect(source.feeds().find((f) => f.kind === 'TrustPolicy')).toMatchObject({
      listed: true,
      connected: false,
      lastError: 'connection refused',
    });

    feed.failStartWith = undefined;
    await waitFor(() => (feed.starts >= 5 ? true : undefined));
    feed.listed([]); // the restarted informer lists again
    expect(source.feeds().find((f) => f.kind === 'TrustPolicy')).toMatchObject({ connected: true });

    await source.stop();
    const starts = feed.starts;
    feed.fail(new Error('aborted by stop'));
    await sleep(80);
    expect(feed.starts).toBe(starts);
    expect(feed.stops).toBe(1);
  });

  it('rebuilds at the latest maxDelayMs after the first change while changes keep coming', async () => {
    const { source, informer, snapshots, listAll } = setup({ debounceMs: 50, maxDelayMs: 120 });
    await source.start((s) => snapshots.push(s));
    listAll();
    await waitFor(() => (snapshots.length === 1 ? true : undefined));
    informer('ClusterTrustStore').put(clusterStore());
    const started = Date.now();
    // A change every 25 ms never leaves 50 ms of quiet: only maxDelayMs lets the rebuild through.
    for (let i = 0; i < 40; i++) {
      informer('TrustPolicy').put(policy(`p${i}`, 'team-a'));
      await sleep(25);
      if (snapshots.length > 1) break;
    }
    expect(snapshots.length).toBeGreaterThan(1);
    expect(Date.now() - started).toBeLessThan(800);
  });
});
