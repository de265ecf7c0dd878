import { PatchStrategy, setHeaderOptions, type KubeConfig } from '@kubernetes/client-node';
import { PortcullisError } from '../errors/index.js';
import type { InvalidResource, PolicySnapshot, ResourceId } from '../policyset/index.js';
import { describeApiError, httpStatusOf, makeClients } from './client.js';
import { GROUP, KINDS, TRUST_MATERIAL_LABEL, VERSION, isOurKind, type OurKind, type TrimmedObject } from './objects.js';

/**
 * Writes `status.conditions` (type `Ready`) and `status.observedGeneration` back to every
 * TrustPolicy, ClusterTrustPolicy, TrustStore and ClusterTrustStore:
 * - `Ready=True`, reason `Valid`, when the resource took effect (a policy is among the snapshot's
 *   documents, a store is not in `invalid`);
 * - `Ready=False`, reason `Invalid`, message = the snapshot's one-line reason (never secret
 *   content; a reference to a Secret/ConfigMap that is not found gets a hint about the
 *   `portcullis.dev/trust-material=true` label the source requires).
 *
 * Writes are merge patches of the `/status` subresource (`application/merge-patch+json`, no
 * resourceVersion precondition), made only when the object's current status differs from the
 * desired one (type, status, reason, message, observedGeneration; `lastTransitionTime` changes
 * only when `status` flips), and never twice for the same desired status while the informer has
 * not yet seen the first write. Not-found (deleted meanwhile) and conflicts are ignored; other
 * failures are reported and retried with backoff. Writes are rate-limited (token bucket,
 * `maxWritesPerSecond`, `burst`) and queued per object, latest desired status wins, so the
 * queue is bounded by the number of objects.
 *
 * Several replicas: every replica computes the same status from the same resources, and a
 * replica skips the write when the object already shows it, so a second replica normally sees
 * the first one's write and does nothing; at worst both write the same content once (idempotent:
 * only the API server's resourceVersion changes, the Ready condition and its transition time are
 * kept). During a rollout, replicas of different versions could disagree on a message and flip it
 * back and forth, rate-limited; set `enabled: false` on all but one replica to avoid even that.
 * No leader election is done.
 */

export interface StatusApi {
  /** A merge patch of the object's status subresource. Throws errors with `.code` = HTTP status. */
  patchStatus(kind: OurKind, namespace: string | undefined, name: string, patch: StatusPatch): Promise<void>;
}

export interface ReadyCondition {
  readonly type: 'Ready';
  readonly status: 'True' | 'False';
  readonly reason: 'Valid' | 'Invalid';
  readonly message: string;
  readonly observedGeneration?: number;
  readonly lastTransitionTime: string;
}

export interface StatusPatch {
  readonly status: {
    readonly observedGeneration?: number;
    readonly conditions: readonly Record<string, unknown>[];
  };
}

export interface DesiredStatus {
  readonly status: 'True' | 'False';
  readonly reason: 'Valid' | 'Invalid';
  readonly message: string;
  readonly observedGeneration?: number;
}

export interface StatusWriterOptions {
  /** The API to write through; default a client made from kubeConfig. */
  readonly api?: StatusApi;
  readonly kubeConfig?: KubeConfig;
  /** False: compute nothing, write nothing (replicas that should not write status). Default true. */
  readonly enabled?: boolean;
  /** Sustained write rate. Default 5 per second. */
  readonly maxWritesPerSecond?: number;
  /** Writes allowed at once before the rate applies. Default 20. */
  readonly burst?: number;
  /** Delay before retrying after failed writes: doubles from this up to 60 s. Default 2 s. */
  readonly retryInitialMs?: number;
  readonly now?: () => number;
  readonly onError?: (error: PortcullisError) => void;
}

export const MAX_MESSAGE_LENGTH = 4096;

const keyOf = (id: { kind: string; namespace?: string | undefined; name: string }): string =>
  `${id.kind}\u0000${id.namespace ?? ''}\u0000${id.name}`;

type Obj = Record<string, unknown>;
const isObject = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

const indexes = new WeakMap<PolicySnapshot, { invalid: Map<string, InvalidResource[]>; documents: Set<string> }>();

function indexOf(snapshot: PolicySnapshot): { invalid: Map<string, InvalidResource[]>; documents: Set<string> } {
  let index = indexes.get(snapshot);
  if (index === undefined) {
    const invalid = new Map<string, InvalidResource[]>();
    for (const entry of snapshot.invalid) {
      const key = keyOf(entry.id);
      invalid.set(key, [...(invalid.get(key) ?? []), entry]);
    }
    index = { invalid, documents: new Set(snapshot.documents.map((d) => keyOf(d.id))) };
    indexes.set(snapshot, index);
  }
  return index;
}

/** Adds the label hint to a "not found" Secret/ConfigMap reference. */
export function statusMessage(reason: string): string {
  let message = reason;
  if (/(Secret|ConfigMap) \S+ not found/.test(reason)) {
    message += ` (Portcullis reads only Secrets and ConfigMaps labelled ${TRUST_MATERIAL_LABEL}=true)`;
  }
  return message.length > MAX_MESSAGE_LENGTH ? `${message.slice(0, MAX_MESSAGE_LENGTH - 1)}…` : message;
}

/**
 * The Ready condition an object should show under a snapshot; undefined when the snapshot says
 * nothing about it (e.g. a policy beyond the object-count limit, which was not read).
 */
export function desiredStatus(snapshot: PolicySnapshot, object: TrimmedObject): DesiredStatus | undefined {
  if (!isOurKind(object.kind)) return undefined;
  const id: ResourceId = {
    kind: object.kind,
    name: object.metadata.name,
    ...(object.metadata.namespace === undefined ? {} : { namespace: object.metadata.namespace }),
  };
  const index = indexOf(snapshot);
  const generation = object.metadata.generation === undefined ? {} : { observedGeneration: object.metadata.generation };
  const problems = index.invalid.get(keyOf(id));
  if (problems !== undefined && problems.length > 0) {
    return {
      status: 'False',
      reason: 'Invalid',
      message: statusMessage(problems.map((p) => p.reason).join('; ')),
      ...generation,
    };
  }
  if (object.kind === 'TrustPolicy' || object.kind === 'ClusterTrustPolicy') {
    if (!index.documents.has(keyOf(id))) return undefined;
    return { status: 'True', reason: 'Valid', message: `the ${object.kind} is valid and in force`, ...generation };
  }
  return { status: 'True', reason: 'Valid', message: `the ${object.kind} is valid`, ...generation };
}

function readyOf(status: unknown): { ready: Obj | undefined; others: Obj[]; observedGeneration: unknown } {
  if (!isObject(status)) return { ready: undefined, others: [], observedGeneration: undefined };
  const conditions = Array.isArray(status['conditions']) ? status['conditions'].filter(isObject) : [];
  return {
    ready: conditions.find((c) => c['type'] === 'Ready'),
    others: conditions.filter((c) => c['type'] !== 'Ready'),
    observedGeneration: status['observedGeneration'],
  };
}

/** RFC 3339 with seconds, as metav1.Time serialises. */
export function formatTime(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

/** The merge patch that brings the object's status to `desired`, or undefined when it already shows it. */
export function statusPatch(object: TrimmedObject, desired: DesiredStatus, now: number): StatusPatch | undefined {
  const { ready, others, observedGeneration } = readyOf(object.status);
  const upToDate =
    ready !== undefined &&
    ready['status'] === desired.status &&
    ready['reason'] === desired.reason &&
    ready['message'] === desired.message &&
    ready['observedGeneration'] === desired.observedGeneration &&
    observedGeneration === desired.observedGeneration;
  if (upToDate) return undefined;
  const lastTransitionTime =
    ready !== undefined && ready['status'] === desired.status && typeof ready['lastTransitionTime'] === 'string'
      ? ready['lastTransitionTime']
      : formatTime(now);
  const condition: ReadyCondition = { type: 'Ready', ...desired, lastTransitionTime };
  return {
    status: {
      ...(desired.observedGeneration === undefined ? {} : { observedGeneration: desired.observedGeneration }),
      conditions: [...others, { ...condition }],
    },
  };
}

const desiredKey = (d: DesiredStatus): string =>
  `${d.status}\u0000${d.reason}\u0000${d.observedGeneration ?? ''}\u0000${d.message}`;

interface Pending {
  readonly object: TrimmedObject;
  readonly desired: DesiredStatus;
}

export interface StatusWriterStats {
  readonly writes: number;
  readonly failures: number;
  readonly queued: number;
}

export class StatusWriter {
  readonly #api: StatusApi;
  readonly #enabled: boolean;
  readonly #rate: number;
  readonly #burst: number;
  readonly #retryInitialMs: number;
  readonly #now: () => number;
  readonly #onError: (error: PortcullisError) => void;

  /** Latest desired status per object not yet written. */
  readonly #queue = new Map<string, Pending>();
  /** Per object: the resourceVersion it had when we wrote `desired`; skip while the cache still shows that version. */
  readonly #written = new Map<string, { resourceVersion: string | undefined; desired: string }>();
  #tokens: number;
  #refilledAt: number;
  #worker: Promise<void> | undefined;
  #last: { snapshot: PolicySnapshot; objects: readonly TrimmedObject[] } | undefined;
  #retry: NodeJS.Timeout | undefined;
  #retryMs: number;
  #stopped = false;
  #writes = 0;
  #failures = 0;

  constructor(options: StatusWriterOptions) {
    if (options.api === undefined && options.kubeConfig === undefined)
      throw new PortcullisError('ERR_INTERNAL', 'StatusWriter needs api or kubeConfig');
    this.#api = options.api ?? kubeStatusApi(options.kubeConfig as KubeConfig);
    this.#enabled = options.enabled ?? true;
    this.#rate = options.maxWritesPerSecond ?? 5;
    this.#burst = Math.max(1, options.burst ?? 20);
    this.#retryInitialMs = options.retryInitialMs ?? 2000;
    this.#retryMs = this.#retryInitialMs;
    this.#now = options.now ?? Date.now;
    this.#onError = options.onError ?? (() => undefined);
    this.#tokens = this.#burst;
    this.#refilledAt = this.#now();
  }

  /**
   * Queues the writes that bring every object's status in line with the snapshot (KubernetesPolicySource's
   * onReconcile).
   */
  reconcile(snapshot: PolicySnapshot, objects: readonly TrimmedObject[]): void {
    if (!this.#enabled || this.#stopped) return;
    this.#last = { snapshot, objects };
    const present = new Set<string>();
    for (const object of objects) {
      const key = keyOf({ kind: object.kind, namespace: object.metadata.namespace, name: object.metadata.name });
      present.add(key);
      const desired = desiredStatus(snapshot, object);
      if (desired === undefined) {
        this.#queue.delete(key);
        continue;
      }
      const written = this.#written.get(key);
      if (
        written !== undefined &&
        written.resourceVersion === object.metadata.resourceVersion &&
        written.desired === desiredKey(desired)
      ) {
        continue; // our write is not in the cache yet
      }
      if (statusPatch(object, desired, this.#now()) === undefined) {
        this.#queue.delete(key);
        continue;
      }
      this.#queue.set(key, { object, desired });
    }
    for (const key of this.#queue.keys()) if (!present.has(key)) this.#queue.delete(key);
    for (const key of this.#written.keys()) if (!present.has(key)) this.#written.delete(key);
    this.#kick();
  }

  /** Resolves when the queue is empty and no write is in flight. */
  async idle(): Promise<void> {
    while (this.#worker !== undefined) await this.#worker;
  }

  stats(): StatusWriterStats {
    return { writes: this.#writes, failures: this.#failures, queued: this.#queue.size };
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#queue.clear();
    if (this.#retry !== undefined) clearTimeout(this.#retry);
    this.#retry = undefined;
    await this.idle();
  }

  #kick(): void {
    if (this.#worker !== undefined || this.#queue.size === 0 || this.#stopped) return;
    this.#worker = this.#drain().finally(() => {
      this.#worker = undefined;
      this.#kick();
    });
  }

  async #drain(): Promise<void> {
    let failed = false;
    while (!this.#stopped) {
      const next = this.#queue.entries().next();
      if (next.done === true) break;
      const [key, pending] = next.value;
      this.#queue.delete(key);
      await this.#takeToken();
      if (this.#stopped) break;
      const { kind, metadata } = pending.object;
      const written = this.#written.get(key);
      if (
        written !== undefined &&
        written.resourceVersion === metadata.resourceVersion &&
        written.desired === desiredKey(pending.desired)
      )
        continue;
      const patch = statusPatch(pending.object, pending.desired, this.#now());
      if (patch === undefined) continue;
      try {
        await this.#api.patchStatus(kind as OurKind, metadata.namespace, metadata.name, patch);
        this.#writes += 1;
        this.#written.set(key, { resourceVersion: metadata.resourceVersion, desired: desiredKey(pending.desired) });
      } catch (error) {
        const status = httpStatusOf(error);
        if (status === 404 || status === 409) continue; // deleted meanwhile / raced: the next event brings the truth
        failed = true;
        this.#failures += 1;
        this.#written.delete(key);
        this.#onError(
          new PortcullisError(
            'ERR_INTERNAL',
            `cannot write the status of ${kind} ${metadata.namespace === undefined ? '' : `${metadata.namespace}/`}${metadata.name}: ${describeApiError(error)}`,
            { cause: error },
          ),
        );
      }
    }
    if (failed) this.#scheduleRetry();
    else this.#retryMs = this.#retryInitialMs;
  }

  #scheduleRetry(): void {
    if (this.#retry !== undefined || this.#stopped) return;
    const delay = this.#retryMs;
    this.#retryMs = Math.min(this.#retryMs * 2, 60_000);
    this.#retry = setTimeout(() => {
      this.#retry = undefined;
      const last = this.#last;
      if (last !== undefined) this.reconcile(last.snapshot, last.objects);
    }, delay);
    this.#retry.unref();
  }

  async #takeToken(): Promise<void> {
    for (;;) {
      const now = this.#now();
      this.#tokens = Math.min(this.#burst, this.#tokens + ((now - this.#refilledAt) / 1000) * this.#rate);
      this.#refilledAt = now;
      if (this.#tokens >= 1) {
        this.#tokens -= 1;
        return;
      }
      const wait = Math.ceil(((1 - this.#tokens) / this.#rate) * 1000);
      await new Promise((resolve) => setTimeout(resolve, wait).unref());
      if (this.#stopped) return;
    }
  }
}

/** The status subresource through CustomObjectsApi, as a JSON merge patch. */
export function kubeStatusApi(kubeConfig: KubeConfig): StatusApi {
  const { custom } = makeClients(kubeConfig);
  const options = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
  return {
    async patchStatus(kind, namespace, name, patch) {
      const plural = KINDS[kind].plural;
      if (namespace === undefined) {
        await custom.patchClusterCustomObjectStatus(
          { group: GROUP, version: VERSION, plural, name, body: patch },
          options,
        );
      } else {
        await custom.patchNamespacedCustomObjectStatus(
          { group: GROUP, version: VERSION, namespace, plural, name, body: patch },
          options,
        );
      }
    },
  };
}
