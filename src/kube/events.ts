import { randomBytes } from 'node:crypto';
import type { CoreV1Event, KubeConfig } from '@kubernetes/client-node';
import { PortcullisError } from '../errors/index.js';
import { describeApiError, makeClients } from './client.js';

/**
 * Kubernetes Events (core v1, as client-go's recorder writes them) on Portcullis's own resources:
 * the policy that decided a denial, a policy or store that is invalid. `kubectl describe
 * trustpolicy NAME` shows them.
 *
 * Bounded: an event repeated (same object, reason and note) within `dedupeWindowMs` is not
 * written again; writes are rate-limited (a token bucket: `burst`, then `perSecond`); at most
 * `maxQueued` wait, the rest are dropped and counted. A denial storm (a Deployment whose pods
 * are all denied, retried by the ReplicaSet controller) therefore costs the API server a few
 * writes, not one per pod. Events of cluster-scoped objects go to the `default` namespace, as
 * Kubernetes' own controllers do.
 */
export interface EventRegarding {
  readonly apiVersion: string;
  readonly kind: string;
  readonly name: string;
  readonly namespace?: string;
}

export interface EventInput {
  readonly regarding: EventRegarding;
  /** CamelCase, machine-readable: `ImageDenied`, `PolicyInvalid`. */
  readonly reason: string;
  /** What was done: `Deny`, `Validate`. */
  readonly action: string;
  readonly note: string;
  readonly type: 'Normal' | 'Warning';
}

export interface EventApi {
  create(namespace: string, event: Record<string, unknown>): Promise<void>;
}

export interface EventRecorderOptions {
  readonly api: EventApi;
  /** The controller's name in `reportingController`. */
  readonly controller?: string;
  /** This replica (`reportingInstance`), e.g. the pod name. */
  readonly instance: string;
  readonly burst?: number;
  readonly perSecond?: number;
  readonly dedupeWindowMs?: number;
  readonly maxQueued?: number;
  readonly now?: () => number;
  readonly onError?: (error: PortcullisError) => void;
  /** The object's uid, when known: `kubectl describe` finds an object's Events by it. */
  readonly uidOf?: (regarding: EventRegarding) => string | undefined;
}

export interface EventRecorderStats {
  readonly written: number;
  readonly deduplicated: number;
  readonly dropped: number;
  readonly failed: number;
}

const NOTE_MAX = 1024;
const MAX_REMEMBERED = 4096;

export class EventRecorder {
  readonly #o: Required<Omit<EventRecorderOptions, 'onError' | 'uidOf'>> &
    Pick<EventRecorderOptions, 'onError' | 'uidOf'>;
  readonly #recent = new Map<string, number>();
  readonly #queue: EventInput[] = [];
  #tokens: number;
  #refilledAt: number;
  #timer: NodeJS.Timeout | undefined;
  #draining: Promise<void> | undefined;
  #stopped = false;
  readonly #stats = { written: 0, deduplicated: 0, dropped: 0, failed: 0 };

  constructor(options: EventRecorderOptions) {
    this.#o = {
      controller: 'portcullis.dev/portcullis',
      burst: 10,
      perSecond: 1,
      dedupeWindowMs: 10 * 60_000,
      maxQueued: 100,
      now: Date.now,
      ...options,
    };
    this.#tokens = this.#o.burst;
    this.#refilledAt = this.#o.now();
  }

  get stats(): EventRecorderStats {
    return { ...this.#stats };
  }

  /** Queues an event (never blocks, never throws). */
  record(input: EventInput): void {
    if (this.#stopped) return;
    const r = input.regarding;
    const key = `${r.kind}\u0000${r.namespace ?? ''}\u0000${r.name}\u0000${input.reason}\u0000${input.note}`;
    const now = this.#o.now();
    const last = this.#recent.get(key);
    if (last !== undefined && now - last < this.#o.dedupeWindowMs) {
      this.#stats.deduplicated++;
      return;
    }
    if (this.#queue.length >= this.#o.maxQueued) {
      this.#stats.dropped++;
      return;
    }
    this.#recent.delete(key);
    this.#recent.set(key, now);
    if (this.#recent.size > MAX_REMEMBERED) this.#recent.delete(this.#recent.keys().next().value as string);
    this.#queue.push(input);
    this.#schedule(0);
  }

  /** Writes what is queued and may be written now; stops accepting. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#draining;
  }

  /** Resolves when nothing is being written (tests). */
  async idle(): Promise<void> {
    while (this.#draining !== undefined || (this.#timer !== undefined && this.#queue.length > 0)) {
      await (this.#draining ?? new Promise((resolve) => setTimeout(resolve, 10)));
    }
  }

  #schedule(delayMs: number): void {
    if (this.#timer !== undefined || this.#draining !== undefined || this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#draining = this.#drain().finally(() => {
        this.#draining = undefined;
        if (this.#queue.length > 0) this.#schedule(this.#waitMs());
      });
    }, delayMs);
    this.#timer.unref?.();
  }

  #refill(): void {
    const now = this.#o.now();
    this.#tokens = Math.min(this.#o.burst, this.#tokens + ((now - this.#refilledAt) / 1000) * this.#o.perSecond);
    this.#refilledAt = now;
  }

  #waitMs(): number {
    this.#refill();
    return this.#tokens >= 1 ? 0 : Math.ceil(((1 - this.#tokens) / this.#o.perSecond) * 1000);
  }

  async #drain(): Promise<void> {
    for (;;) {
      this.#refill();
      if (this.#tokens < 1) return;
      const input = this.#queue.shift();
      if (input === undefined) return;
      this.#tokens -= 1;
      const namespace = input.regarding.namespace ?? 'default';
      try {
        await this.#o.api.create(namespace, this.#event(input, namespace));
        this.#stats.written++;
      } catch (error) {
        this.#stats.failed++;
        this.#o.onError?.(
          new PortcullisError(
            'ERR_KUBE_API',
            `writing an Event on ${input.regarding.kind} ${input.regarding.name}: ${describeApiError(error)}`,
            { cause: error },
          ),
        );
      }
    }
  }

  // Core v1 rather than events.k8s.io/v1: the latter refuses an Event of a cluster-scoped object
  // in any namespace (Kubernetes 1.20), while `default` is where kubectl and client-go look.
  #event(input: EventInput, namespace: string): Record<string, unknown> {
    const r = input.regarding;
    const note = input.note.length > NOTE_MAX ? `${input.note.slice(0, NOTE_MAX - 1)}…` : input.note;
    const now = new Date(this.#o.now()).toISOString().replace(/\.\d{3}Z$/, 'Z');
    const uid = this.#o.uidOf?.(r);
    return {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: `${r.name}.${randomBytes(8).toString('hex')}`, namespace },
      involvedObject: {
        apiVersion: r.apiVersion,
        kind: r.kind,
        name: r.name,
        ...(r.namespace === undefined ? {} : { namespace: r.namespace }),
        ...(uid === undefined ? {} : { uid }),
      },
      reason: input.reason,
      message: note,
      type: input.type,
      action: input.action,
      count: 1,
      firstTimestamp: now,
      lastTimestamp: now,
      source: { component: this.#o.controller },
      reportingComponent: this.#o.controller,
      reportingInstance: this.#o.instance,
    };
  }
}

/** The EventApi of a cluster (core v1 events). */
export function kubeEventApi(kubeConfig: KubeConfig): EventApi {
  const { core } = makeClients(kubeConfig);
  return {
    async create(namespace, event) {
      await core.createNamespacedEvent({ namespace, body: event as unknown as CoreV1Event });
    },
  };
}
