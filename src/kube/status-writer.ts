import type { KubeConfig } from '@kubernetes/client-node';
import { PortcullisError } from '../errors/index.js';
import type { PolicySnapshot } from '../policyset/index.js';
import { describeApiError, httpStatusOf } from './client.js';
import type { OurKind, TrimmedObject } from './objects.js';
import {
  DEFAULT_STATUS_BURST,
  DEFAULT_STATUS_MAX_IN_FLIGHT,
  DEFAULT_STATUS_QPS,
  desiredStatus,
  kubeStatusApi,
  objectKey,
  statusPatch,
  type DesiredStatus,
  type StatusApi,
} from './status.js';

/**
 * The writer of the statuses status.ts computes: a queue per object (latest desired status
 * wins), a token bucket (the API request budget), at most `maxInFlight` writes awaiting answers,
 * retries with backoff, and only while this replica leads (see status.ts for what is written).
 */

/**
 * Whether this replica is the one that writes statuses: the audit's Lease election
 * (`LeaderElector`) when serve runs one, else a fixed flag (`staticLeadership`, the
 * `kubernetes.writeStatus` setting).
 */
export interface Leadership {
  isLeader(): boolean;
  /** Calls `listener` when leadership is gained or lost; returns the unsubscribe function. */
  subscribe(listener: (leader: boolean) => void): () => void;
}

/** A leadership that never changes. */
export function staticLeadership(leader: boolean): Leadership {
  return { isLeader: () => leader, subscribe: () => () => undefined };
}

export interface StatusWriterOptions {
  /** The API to write through; default a client made from kubeConfig. */
  readonly api?: StatusApi;
  readonly kubeConfig?: KubeConfig;
  /** False: compute nothing, write nothing (replicas that should not write status). Default true. */
  readonly enabled?: boolean;
  /** Writes only while this says the replica leads. Default: always (a fixed flag, `enabled`). */
  readonly leadership?: Leadership;
  /** Sustained write rate (requests per second). Default DEFAULT_STATUS_QPS. */
  readonly qps?: number;
  /** Writes allowed at once before the rate applies. Default DEFAULT_STATUS_BURST. */
  readonly burst?: number;
  /** Writes awaiting the API server's answer at once. Default DEFAULT_STATUS_MAX_IN_FLIGHT. */
  readonly maxInFlight?: number;
  /** Delay before retrying after failed writes: doubles from this up to 60 s. Default 2 s. */
  readonly retryInitialMs?: number;
  readonly now?: () => number;
  readonly onError?: (error: PortcullisError) => void;
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
  readonly #leadership: Leadership;
  readonly #unsubscribe: () => void;
  readonly #rate: number;
  readonly #burst: number;
  readonly #maxInFlight: number;
  readonly #retryInitialMs: number;
  readonly #now: () => number;
  readonly #onError: (error: PortcullisError) => void;

  /** Latest desired status per object not yet written. */
  readonly #queue = new Map<string, Pending>();
  /** Writes awaiting the API server, by object; a newer desired status of one of them waits in #deferred. */
  readonly #inFlight = new Map<string, Promise<void>>();
  readonly #deferred = new Map<string, Pending>();
  /** Per object: the resourceVersion it had when we wrote `desired`; skip while the cache still shows that version. */
  readonly #written = new Map<string, { resourceVersion: string | undefined; desired: string }>();
  #tokens: number;
  #refilledAt: number;
  #worker: Promise<void> | undefined;
  /** The last snapshot and the objects as last seen (observe() keeps them current): where retries start. */
  #last: { snapshot: PolicySnapshot; objects: Map<string, TrimmedObject> } | undefined;
  #retry: NodeJS.Timeout | undefined;
  #retryMs: number;
  #failed = false;
  #stopped = false;
  #writes = 0;
  #failures = 0;

  constructor(options: StatusWriterOptions) {
    if (options.api === undefined && options.kubeConfig === undefined)
      throw new PortcullisError('ERR_INTERNAL', 'StatusWriter needs api or kubeConfig');
    this.#api = options.api ?? kubeStatusApi(options.kubeConfig as KubeConfig, options.maxInFlight);
    this.#enabled = options.enabled ?? true;
    this.#leadership = options.leadership ?? staticLeadership(true);
    this.#rate = Math.max(0.001, options.qps ?? DEFAULT_STATUS_QPS);
    this.#burst = Math.max(1, options.burst ?? DEFAULT_STATUS_BURST);
    this.#maxInFlight = Math.max(1, options.maxInFlight ?? DEFAULT_STATUS_MAX_IN_FLIGHT);
    this.#retryInitialMs = options.retryInitialMs ?? 2000;
    this.#retryMs = this.#retryInitialMs;
    this.#now = options.now ?? Date.now;
    this.#onError = options.onError ?? (() => undefined);
    this.#tokens = this.#burst;
    this.#refilledAt = this.#now();
    // Gaining leadership: bring every status in line with the last snapshot; losing it: stop writing.
    this.#unsubscribe = this.#leadership.subscribe((leader) => {
      if (!leader) {
        this.#queue.clear();
        this.#deferred.clear();
        return;
      }
      const last = this.#last;
      if (last !== undefined) this.reconcile(last.snapshot, [...last.objects.values()]);
    });
  }

  #leads(): boolean {
    return this.#enabled && !this.#stopped && this.#leadership.isLeader();
  }

  /** Queues the writes that bring every object's status in line with the snapshot (the source's onReconcile). */
  reconcile(snapshot: PolicySnapshot, objects: readonly TrimmedObject[]): void {
    if (!this.#enabled || this.#stopped) return;
    const byKey = new Map<string, TrimmedObject>();
    for (const object of objects) byKey.set(objectKey(object), object);
    this.#last = { snapshot, objects: byKey };
    if (!this.#leadership.isLeader()) return;
    for (const [key, object] of byKey) this.#consider(snapshot, key, object);
    for (const key of this.#queue.keys()) if (!byKey.has(key)) this.#queue.delete(key);
    for (const key of this.#deferred.keys()) if (!byKey.has(key)) this.#deferred.delete(key);
    for (const key of this.#written.keys()) if (!byKey.has(key)) this.#written.delete(key);
    this.#kick();
  }

  /**
   * One object changed without a new snapshot (its status, usually our own write arriving):
   * compares that object only (the source's onStatusChange).
   */
  observe(snapshot: PolicySnapshot, object: TrimmedObject): void {
    if (!this.#enabled || this.#stopped) return;
    const key = objectKey(object);
    const last = this.#last;
    if (last !== undefined && last.snapshot === snapshot) last.objects.set(key, object);
    if (!this.#leadership.isLeader()) return;
    this.#consider(snapshot, key, object);
    this.#kick();
  }

  #consider(snapshot: PolicySnapshot, key: string, object: TrimmedObject): void {
    const desired = desiredStatus(snapshot, object);
    if (desired === undefined || this.#alreadyWritten(key, object, desired)) {
      this.#queue.delete(key);
      return;
    }
    if (statusPatch(object, desired, this.#now()) === undefined) {
      this.#queue.delete(key); // the object shows it already: compare before writing
      return;
    }
    this.#queue.set(key, { object, desired });
  }

  /** Our write of `desired` is not in the informer's cache yet (the object still has the version we wrote over). */
  #alreadyWritten(key: string, object: TrimmedObject, desired: DesiredStatus): boolean {
    const written = this.#written.get(key);
    return (
      written !== undefined &&
      written.resourceVersion === object.metadata.resourceVersion &&
      written.desired === desiredKey(desired)
    );
  }

  /** Resolves when the queue is empty and no write is in flight. */
  async idle(): Promise<void> {
    while (this.#worker !== undefined) await this.#worker;
  }

  stats(): StatusWriterStats {
    return { writes: this.#writes, failures: this.#failures, queued: this.#queue.size + this.#deferred.size };
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#unsubscribe();
    this.#queue.clear();
    this.#deferred.clear();
    if (this.#retry !== undefined) clearTimeout(this.#retry);
    this.#retry = undefined;
    await this.idle();
    await this.#api.close?.();
  }

  #kick(): void {
    if (this.#worker !== undefined || this.#queue.size === 0 || !this.#leads()) return;
    this.#worker = this.#drain().finally(() => {
      this.#worker = undefined;
      this.#kick();
    });
  }

  /** Writes the queue: one token per write, at most maxInFlight awaiting answers. */
  async #drain(): Promise<void> {
    this.#failed = false;
    for (;;) {
      const next = this.#leads() ? this.#queue.entries().next() : undefined;
      if (next === undefined || next.done === true) {
        if (this.#inFlight.size === 0) break;
        await Promise.race(this.#inFlight.values());
        continue;
      }
      if (this.#inFlight.size >= this.#maxInFlight) {
        await Promise.race(this.#inFlight.values());
        continue;
      }
      const [key, pending] = next.value;
      this.#queue.delete(key);
      if (this.#inFlight.has(key)) {
        this.#deferred.set(key, pending); // after the write in flight: its answer may make this one moot
        continue;
      }
      await this.#takeToken();
      if (!this.#leads()) break;
      const write = this.#write(key, pending).finally(() => {
        this.#inFlight.delete(key);
        const deferred = this.#deferred.get(key);
        this.#deferred.delete(key);
        if (deferred !== undefined && !this.#queue.has(key) && this.#leads()) this.#queue.set(key, deferred);
      });
      this.#inFlight.set(key, write);
    }
    await Promise.all(this.#inFlight.values());
    if (this.#failed) this.#scheduleRetry();
    else this.#retryMs = this.#retryInitialMs;
  }

  async #write(key: string, pending: Pending): Promise<void> {
    const { kind, metadata } = pending.object;
    if (this.#alreadyWritten(key, pending.object, pending.desired)) return;
    const patch = statusPatch(pending.object, pending.desired, this.#now());
    if (patch === undefined) return;
    try {
      await this.#api.patchStatus(kind as OurKind, metadata.namespace, metadata.name, patch);
      this.#writes += 1;
      this.#written.set(key, { resourceVersion: metadata.resourceVersion, desired: desiredKey(pending.desired) });
    } catch (error) {
      const status = httpStatusOf(error);
      if (status === 404 || status === 409) return; // deleted meanwhile / raced: the next event brings the truth
      this.#failed = true;
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

  #scheduleRetry(): void {
    if (this.#retry !== undefined || this.#stopped) return;
    const delay = this.#retryMs;
    this.#retryMs = Math.min(this.#retryMs * 2, 60_000);
    this.#retry = setTimeout(() => {
      this.#retry = undefined;
      const last = this.#last;
      if (last !== undefined) this.reconcile(last.snapshot, [...last.objects.values()]);
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
