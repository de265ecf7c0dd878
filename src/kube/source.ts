import { ListWatch, type KubeConfig, type KubernetesListObject, type KubernetesObject } from '@kubernetes/client-node';
import { PortcullisError } from '../errors/index.js';
import { Debounce } from '../policy-source/index.js';
import {
  Fingerprint,
  SnapshotFeed,
  type InvalidResource,
  type PolicySnapshot,
  type PolicySource,
} from '../policyset/index.js';
import { CertificateCache } from '../x509/index.js';
import { describeApiError, makeClients } from './client.js';
import {
  KINDS,
  TRUST_MATERIAL_SELECTOR,
  WATCHED_KINDS,
  isOurKind,
  resourceOf,
  trimObject,
  type TrimmedObject,
  type WatchedKind,
} from './objects.js';
import {
  oversizeError,
  listAll,
  TrimmingWatch,
  type FeedDescription,
  type InformerFactory,
  type KubeInformer,
} from './informers.js';
export type { FeedDescription, InformerFactory, InformerHooks, KubeInformer } from './informers.js';
import { KubeRequester } from './requests.js';

/**
 * Policies from the Kubernetes API: the portcullis.dev resources (TrustPolicy,
 * ClusterTrustPolicy, TrustStore, ClusterTrustStore), Namespaces (labels for selectors) and the
 * Secrets and ConfigMaps labelled `portcullis.dev/trust-material=true` (certificates for
 * `certificateRefs`), each through a list+watch informer of @kubernetes/client-node.
 *
 * - Any change schedules a rebuild after `debounceMs` of quiet (at most `maxDelayMs` after the
 *   first change; src/policy-source/debounce.ts, as the directory source); the snapshot is built
 *   by the same SnapshotFeed as the directory source's, from the same fields a manifest file
 *   has, and emitted only when that content changed (a
 *   status write, a resourceVersion bump or a re-list with the same content emits nothing).
 * - Not ready and no snapshot until every informer has completed its first full list.
 * - A failed list or a lost watch is retried by restarting the informer with exponential backoff
 *   (`retryInitialMs` doubling to `retryMaxMs`, with jitter); the watch resumes from its last
 *   resourceVersion, or re-lists when the server answers 410 Gone. Meanwhile, and if the API
 *   server goes away for good, the last snapshot stays in force and `ready()` stays true: an
 *   outage of the API server must not turn into an outage of admission. `feeds()` tells which
 *   watches are connected, for logs and metrics.
 * - Bounded: at most `maxObjectsPerKind` objects of each kind are read (by namespace and name;
 *   beyond that the kind is reported as an invalid entry that blocks every namespace for
 *   policies and Namespaces, since the unread ones may have been policies or selector labels);
 *   an object whose content is over `maxObjectBytes` is kept only as a marker and reported
 *   (ERR_SIZE_LIMIT; a policy blocks what it would have covered).
 *
 * Secrets and ConfigMaps are watched with the label selector, not all of them: holding every
 * Secret of the cluster in memory (Helm releases, service-account tokens, TLS keys) would cost
 * memory proportional to the cluster and put unrelated secret material in this process for no
 * use. The label is a documented requirement for every Secret/ConfigMap a certificateRef names;
 * a reference to an unlabelled one reads as "not found", and the status message says why.
 * RBAC still needs cluster-wide list/watch on secrets and configmaps (RBAC cannot restrict by
 * label).
 */

export interface KubernetesPolicySourceOptions {
  readonly kubeConfig: KubeConfig;
  /** Quiet time after a change before rebuilding. Default 100 ms. */
  readonly debounceMs?: number;
  /** Longest a rebuild waits while changes keep coming. Default 1 s. */
  readonly maxDelayMs?: number;
  /** Most objects of each watched kind read. Default 5000 (Namespaces: 20000). */
  readonly maxObjectsPerKind?: number;
  readonly maxNamespaces?: number;
  /** Largest object content (spec, or Secret/ConfigMap data) read. Default 1 MiB. */
  readonly maxObjectBytes?: number;
  /**
   * Label selector for the Secrets and ConfigMaps read as trust material. Default `portcullis.dev/trust-material=true`.
   */
  readonly trustMaterialSelector?: string;
  /** First retry delay after a failed list or watch. Default 500 ms; doubles up to retryMaxMs (default 30 s). */
  readonly retryInitialMs?: number;
  readonly retryMaxMs?: number;
  /** Server-side timeout of each watch request (it is then renewed); default a random 5-10 minutes. */
  readonly watchTimeoutSeconds?: number;
  readonly certificateCache?: CertificateCache;
  /** Failed lists and watches (the last snapshot stays in force) and errors thrown by onSnapshot. */
  readonly onError?: (error: PortcullisError) => void;
  /**
   * Called after every rebuild, with the snapshot in force and the portcullis.dev objects it was
   * built from (also when the snapshot did not change): the status writer's hook.
   */
  readonly onReconcile?: (snapshot: PolicySnapshot, objects: readonly TrimmedObject[]) => void;
  /**
   * Called instead of a rebuild when a portcullis.dev object changed but its content did not (the
   * same generation: a status write, a label): the status writer compares that one object.
   */
  readonly onStatusChange?: (snapshot: PolicySnapshot, object: TrimmedObject) => void;
  /** Tests: makes the informers (default: ListWatch against kubeConfig). */
  readonly informerFactory?: InformerFactory;
}

export interface FeedState {
  readonly kind: WatchedKind;
  /** The first full list completed. */
  readonly listed: boolean;
  /** The watch is believed up (false after an error until the next successful list or event). */
  readonly connected: boolean;
  readonly objects: number;
  readonly lastError?: string;
}

export const DEFAULT_MAX_OBJECTS_PER_KIND = 5000;
export const DEFAULT_MAX_NAMESPACES = 20_000;
export const DEFAULT_MAX_OBJECT_BYTES = 1024 * 1024;
export const DEFAULT_RETRY_INITIAL_MS = 500;
export const DEFAULT_RETRY_MAX_MS = 30_000;

interface Feed {
  readonly kind: WatchedKind;
  readonly informer: KubeInformer;
  listed: boolean;
  connected: boolean;
  backoffMs: number;
  retry: NodeJS.Timeout | undefined;
  lastError: string | undefined;
  /** portcullis.dev kinds: the generation of each object (namespace/name), to tell a status-only update. */
  readonly generations: Map<string, number | undefined>;
}

const compareStrings = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
const orderKey = (o: TrimmedObject): string => `${o.metadata.namespace ?? ''}\u0000${o.metadata.name}`;

export class KubernetesPolicySource implements PolicySource {
  readonly #kubeConfig: KubeConfig;
  readonly #maxObjects: number;
  readonly #maxNamespaces: number;
  readonly #maxObjectBytes: number;
  readonly #selector: string;
  readonly #retryInitialMs: number;
  readonly #retryMaxMs: number;
  readonly #watchTimeoutSeconds: number | undefined;
  readonly #onError: (error: PortcullisError) => void;
  readonly #onReconcile: ((snapshot: PolicySnapshot, objects: readonly TrimmedObject[]) => void) | undefined;
  readonly #onStatusChange: ((snapshot: PolicySnapshot, object: TrimmedObject) => void) | undefined;
  readonly #factory: InformerFactory | undefined;

  readonly #feed: SnapshotFeed;
  /** The kept-alive pool the lists go through (default informers only). */
  #requester: KubeRequester | undefined;
  readonly #debounce: Debounce;
  #feeds: Feed[] = [];
  #stopped = true;

  constructor(options: KubernetesPolicySourceOptions) {
    this.#kubeConfig = options.kubeConfig;
    this.#maxObjects = options.maxObjectsPerKind ?? DEFAULT_MAX_OBJECTS_PER_KIND;
    this.#maxNamespaces = options.maxNamespaces ?? DEFAULT_MAX_NAMESPACES;
    this.#maxObjectBytes = options.maxObjectBytes ?? DEFAULT_MAX_OBJECT_BYTES;
    this.#selector = options.trustMaterialSelector ?? TRUST_MATERIAL_SELECTOR;
    this.#retryInitialMs = options.retryInitialMs ?? DEFAULT_RETRY_INITIAL_MS;
    this.#retryMaxMs = Math.max(options.retryMaxMs ?? DEFAULT_RETRY_MAX_MS, this.#retryInitialMs);
    this.#watchTimeoutSeconds = options.watchTimeoutSeconds;
    this.#onError = options.onError ?? (() => undefined);
    this.#onReconcile = options.onReconcile;
    this.#onStatusChange = options.onStatusChange;
    this.#factory = options.informerFactory;
    this.#feed = new SnapshotFeed({
      certificateCache: options.certificateCache ?? new CertificateCache(),
      onError: this.#onError,
    });
    this.#debounce = new Debounce(() => this.#rebuild(), options);
  }

  /** The snapshot in force, or undefined until every informer has listed once. */
  current(): PolicySnapshot | undefined {
    return this.#feed.current();
  }

  /**
   * True once the first snapshot is built (every informer listed once). It stays true when the
   * API server goes away later: the last snapshot keeps serving (see `feeds()` for the watches).
   */
  ready(): boolean {
    return this.#feed.current() !== undefined;
  }

  /** Resolves when the first snapshot has been emitted (immediately if it has). */
  whenReady(): Promise<void> {
    return this.#feed.whenReady();
  }

  /** The state of each watch, for logs, metrics and /readyz details. */
  feeds(): readonly FeedState[] {
    return this.#feeds.map((f) => ({
      kind: f.kind,
      listed: f.listed,
      connected: f.connected,
      objects: f.informer.list().length,
      ...(f.lastError === undefined ? {} : { lastError: f.lastError }),
    }));
  }

  /**
   * Starts the informers and returns without waiting for them: the API server may be
   * unreachable at start, and the HTTP server should come up (not ready) meanwhile. Await
   * `whenReady()` to wait for the first snapshot, which is also passed to onSnapshot.
   */
  async start(onSnapshot: (snapshot: PolicySnapshot) => void): Promise<void> {
    if (this.#feed.subscribed)
      throw new PortcullisError('ERR_INTERNAL', 'KubernetesPolicySource.start was called twice');
    this.#feed.subscribe(onSnapshot);
    this.#stopped = false;
    const factory = this.#factory ?? this.#defaultFactory();
    const timeout = this.#watchTimeoutSeconds ?? 300 + Math.floor(Math.random() * 300);
    this.#feeds = WATCHED_KINDS.map((kind) => {
      const info = KINDS[kind];
      const trustMaterial = kind === 'Secret' || kind === 'ConfigMap';
      const feed: Feed = {
        kind,
        informer: undefined as unknown as KubeInformer,
        listed: false,
        connected: false,
        backoffMs: this.#retryInitialMs,
        retry: undefined,
        lastError: undefined,
        generations: new Map(),
      };
      const description: FeedDescription = {
        kind,
        path: `${info.path}?timeoutSeconds=${timeout}&allowWatchBookmarks=true`,
        ...(trustMaterial ? { labelSelector: this.#selector } : {}),
      };
      (feed as { informer: KubeInformer }).informer = factory(description, {
        trim: (object) => trimObject(kind, object, this.#maxObjectBytes),
        onListed: () => {
          feed.listed = true;
          feed.connected = true;
          feed.backoffMs = this.#retryInitialMs;
          feed.lastError = undefined;
          this.#schedule();
        },
        onWatching: () => {
          feed.connected = true;
          feed.backoffMs = this.#retryInitialMs;
          feed.lastError = undefined;
        },
      });
      const ours = isOurKind(kind);
      const changed = (object?: KubernetesObject): void => {
        feed.connected = true;
        if (ours && object !== undefined)
          feed.generations.set(orderKey(object as TrimmedObject), object.metadata?.generation);
        this.#schedule();
      };
      feed.informer.on('add', changed);
      feed.informer.on('update', (object?: KubernetesObject) => {
        // A custom resource's generation moves with its spec only: the same generation is a status
        // write (thousands of them at start) and needs no rebuild of the whole snapshot.
        const key = ours && object !== undefined ? orderKey(object as TrimmedObject) : undefined;
        const generation = object?.metadata?.generation;
        if (key !== undefined && typeof generation === 'number' && feed.generations.get(key) === generation) {
          feed.connected = true;
          this.#statusChanged(object as TrimmedObject);
          return;
        }
        changed(object);
      });
      feed.informer.on('delete', (object?: KubernetesObject) => {
        if (ours && object !== undefined) feed.generations.delete(orderKey(object as TrimmedObject));
        feed.connected = true;
        this.#schedule();
      });
      feed.informer.on('error', (error?: unknown) => this.#failed(feed, error));
      return feed;
    });
    for (const feed of this.#feeds) this.#startFeed(feed);
  }

  /** Stops every informer and timer. The last snapshot stays readable. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#debounce.cancel();
    const feeds = this.#feeds;
    for (const feed of feeds) {
      if (feed.retry !== undefined) clearTimeout(feed.retry);
      feed.retry = undefined;
    }
    await Promise.all(feeds.map((feed) => feed.informer.stop().catch(() => undefined)));
    await this.#requester?.close().catch(() => undefined);
    this.#requester = undefined;
    this.#feed.subscribe(undefined);
  }

  /** Rebuilds now (tests; the debounce does the same). */
  rebuildNow(): void {
    this.#debounce.flush();
  }

  #startFeed(feed: Feed): void {
    if (this.#stopped) return;
    feed.informer.start().catch((error: unknown) => this.#failed(feed, error));
  }

  #failed(feed: Feed, error: unknown): void {
    if (this.#stopped) return; // stop() aborts the watch, which reports an AbortError
    feed.connected = false;
    feed.lastError = describeApiError(error);
    const delay = Math.round(feed.backoffMs * (0.8 + Math.random() * 0.4));
    feed.backoffMs = Math.min(feed.backoffMs * 2, this.#retryMaxMs);
    this.#onError(
      new PortcullisError(
        'ERR_INTERNAL',
        `kubernetes ${KINDS[feed.kind].plural}: ${feed.listed ? 'watch' : 'list'} failed (${feed.lastError}); retrying in ${delay} ms${this.#feed.current() === undefined ? '' : ', the last snapshot stays in force'}`,
        { cause: error },
      ),
    );
    if (feed.retry !== undefined) clearTimeout(feed.retry);
    feed.retry = setTimeout(() => {
      feed.retry = undefined;
      this.#startFeed(feed);
    }, delay);
    feed.retry.unref();
  }

  #statusChanged(object: TrimmedObject): void {
    const current = this.#feed.current();
    const hook = this.#onStatusChange;
    if (this.#stopped || current === undefined || hook === undefined || this.#debounce.pending) return;
    this.#feed.guard('the status reconciler', () => hook(current, object));
  }

  #schedule(): void {
    if (!this.#stopped) this.#debounce.schedule();
  }

  #rebuild(): void {
    if (this.#stopped || this.#feeds.some((f) => !f.listed)) return;
    const resources: unknown[] = [];
    const sourceErrors: InvalidResource[] = [];
    const ours: TrimmedObject[] = [];
    const hash = new Fingerprint();
    for (const feed of this.#feeds) {
      const info = KINDS[feed.kind];
      const all = (feed.informer.list() as TrimmedObject[])
        .slice()
        .sort((a, b) => compareStrings(orderKey(a), orderKey(b)));
      const limit = feed.kind === 'Namespace' ? this.#maxNamespaces : this.#maxObjects;
      if (all.length > limit) {
        const policyLike =
          feed.kind === 'TrustPolicy' || feed.kind === 'ClusterTrustPolicy' || feed.kind === 'Namespace';
        const first = all[limit] as TrimmedObject;
        sourceErrors.push({
          id: { kind: 'Unknown', name: `${info.plural} beyond the limit of ${limit}` },
          reason: `the cluster holds ${all.length} ${info.plural}, more than the limit of ${limit}; ${first.metadata.namespace === undefined ? '' : `${first.metadata.namespace}/`}${first.metadata.name} and the ${all.length - limit - 1} after it (by namespace and name) were not read`,
          code: 'ERR_SIZE_LIMIT',
          source: `kubernetes ${info.path}`,
          ...(policyLike ? { blocks: { kind: 'all' as const }, enforcementAction: 'deny' as const } : {}),
        });
        hash.add('over', feed.kind, all.length);
        all.length = limit;
      }
      for (const object of all) {
        if (isOurKind(object.kind)) ours.push(object);
        if (object.oversize !== undefined) {
          sourceErrors.push(oversizeError(object, this.#maxObjectBytes));
          hash.add('big', object.kind, orderKey(object), object.oversize);
          continue;
        }
        const resource = resourceOf(object);
        resources.push(resource);
        hash.add(JSON.stringify(resource));
      }
    }
    this.#feed.offer({ fingerprint: hash.digest(), resources, sourceErrors });
    const current = this.#feed.current();
    const reconcile = this.#onReconcile;
    if (current !== undefined && reconcile !== undefined)
      this.#feed.guard('the status reconciler', () => reconcile(current, ours));
  }

  #defaultFactory(): InformerFactory {
    const clients = makeClients(this.#kubeConfig);
    const requester = KubeRequester.supports(this.#kubeConfig)
      ? new KubeRequester(this.#kubeConfig, { connections: 2, timeoutMs: 60_000 })
      : undefined;
    this.#requester = requester;
    return (feed, hooks) => {
      const listFn = async (): Promise<KubernetesListObject<KubernetesObject>> => {
        const list = await listAll(clients, feed, hooks.trim, requester);
        hooks.onListed();
        return list;
      };
      return new ListWatch(feed.path, new TrimmingWatch(this.#kubeConfig, hooks), listFn, false, feed.labelSelector);
    };
  }
}
