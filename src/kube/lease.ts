import type { CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import type { Leadership } from './status-writer.js';
import { PortcullisError } from '../errors/index.js';
import { describeApiError, httpStatusOf, makeClients } from './client.js';

/**
 * Leader election over one coordination.k8s.io/v1 Lease, as client-go's leaderelection does it:
 * the leader renews `spec.renewTime` every `retryEveryMs`; another replica takes the Lease when
 * it has seen no change of it for `leaseDurationSeconds` by its own clock (not by comparing the
 * holder's renewTime with its clock: the replicas' clocks may differ); every write carries the
 * resourceVersion read, so two replicas that try at once cannot both win (409 to one). A
 * leader that stops releases the Lease (empty holder) so another takes over at its next try
 * rather than after the lease duration. Only the leader writes the audit's PolicyReports.
 */
export interface LeaseApi {
  get(namespace: string, name: string): Promise<LeaseObject | undefined>;
  create(namespace: string, lease: LeaseObject): Promise<void>;
  /** Replaces the Lease; rejects with a 409 when its resourceVersion is not the current one. */
  replace(namespace: string, lease: LeaseObject): Promise<void>;
}

export interface LeaseObject {
  readonly apiVersion: 'coordination.k8s.io/v1';
  readonly kind: 'Lease';
  readonly metadata: { readonly name: string; readonly namespace: string; readonly resourceVersion?: string };
  readonly spec: {
    readonly holderIdentity?: string;
    readonly leaseDurationSeconds?: number;
    readonly acquireTime?: string;
    readonly renewTime?: string;
    readonly leaseTransitions?: number;
  };
}

export interface LeaderElectorOptions {
  readonly api: LeaseApi;
  readonly namespace: string;
  readonly name: string;
  /** This replica's identity (the pod name), unique among the replicas. */
  readonly identity: string;
  /** How long a Lease not renewed stays the holder's. Default 15 s. */
  readonly leaseDurationSeconds?: number;
  /** How often the leader renews, and a follower tries. Default 5 s (≤ a third of the duration). */
  readonly retryEveryMs?: number;
  readonly now?: () => number;
  readonly onStartedLeading?: () => void;
  readonly onStoppedLeading?: () => void;
  readonly onError?: (error: PortcullisError) => void;
}

/** Kubernetes MicroTime: RFC 3339 with exactly six fraction digits (the API server insists). */
export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

/**
 * A Lease election (client-go's, reduced to what Portcullis needs). It is also the `Leadership`
 * the status writer follows, so the replica that audits is the one that writes statuses.
 */
export class LeaderElector implements Leadership {
  readonly #o: Required<Omit<LeaderElectorOptions, 'onStartedLeading' | 'onStoppedLeading' | 'onError'>> &
    Pick<LeaderElectorOptions, 'onStartedLeading' | 'onStoppedLeading' | 'onError'>;
  #leading = false;
  readonly #listeners = new Set<(leader: boolean) => void>();
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #stopped = false;
  /** The Lease as last seen (its resourceVersion) and when, by this replica's clock. */
  #observed: { readonly version: string; readonly at: number } | undefined;

  constructor(options: LeaderElectorOptions) {
    const duration = options.leaseDurationSeconds ?? 15;
    this.#o = {
      ...options,
      leaseDurationSeconds: duration,
      retryEveryMs: options.retryEveryMs ?? Math.min(5000, Math.floor((duration * 1000) / 3)),
      now: options.now ?? Date.now,
    };
  }

  get leading(): boolean {
    return this.#leading;
  }

  isLeader(): boolean {
    return this.#leading;
  }

  subscribe(listener: (leader: boolean) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Starts trying (at once, then every retryEveryMs). */
  start(): void {
    if (this.#timer !== undefined || this.#stopped) return;
    const tick = (): void => {
      this.#running = this.tryOnce()
        .then(
          () => undefined,
          () => undefined,
        )
        .finally(() => {
          this.#running = undefined;
          if (!this.#stopped) this.#timer = setTimeout(tick, this.#o.retryEveryMs);
        });
    };
    this.#timer = setTimeout(tick, 0);
  }

  /** Stops trying; a leader releases the Lease. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    await this.#running;
    if (!this.#leading) return;
    this.#setLeading(false);
    try {
      const current = await this.#o.api.get(this.#o.namespace, this.#o.name);
      if (current?.spec.holderIdentity !== this.#o.identity) return;
      await this.#o.api.replace(this.#o.namespace, {
        ...current,
        spec: { ...current.spec, holderIdentity: '', leaseDurationSeconds: 1, renewTime: microTime(this.#o.now()) },
      });
    } catch (error) {
      this.#report('releasing', error);
    }
  }

  /** One round: acquire or renew. Resolves with whether this replica leads now. */
  async tryOnce(): Promise<boolean> {
    const { api, namespace, name, identity, leaseDurationSeconds } = this.#o;
    const now = this.#o.now();
    try {
      const current = await api.get(namespace, name);
      if (current === undefined) {
        await api.create(namespace, {
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          metadata: { name, namespace },
          spec: {
            holderIdentity: identity,
            leaseDurationSeconds,
            acquireTime: microTime(now),
            renewTime: microTime(now),
            leaseTransitions: 0,
          },
        });
        return this.#setLeading(true);
      }
      const spec = current.spec;
      const holder = spec.holderIdentity ?? '';
      const version = `${current.metadata.resourceVersion ?? ''}\u0000${holder}\u0000${spec.renewTime ?? ''}`;
      if (this.#observed?.version !== version) this.#observed = { version, at: now };
      const expired = this.#observed.at + (spec.leaseDurationSeconds ?? leaseDurationSeconds) * 1000 <= now;
      if (holder !== identity && holder !== '' && !expired) return this.#setLeading(false);
      const mine = holder === identity;
      await api.replace(namespace, {
        ...current,
        spec: {
          holderIdentity: identity,
          leaseDurationSeconds,
          acquireTime: mine && spec.acquireTime !== undefined ? spec.acquireTime : microTime(now),
          renewTime: microTime(now),
          leaseTransitions: (spec.leaseTransitions ?? 0) + (mine ? 0 : 1),
        },
      });
      return this.#setLeading(true);
    } catch (error) {
      // 409: another replica wrote first; it leads. Anything else: we cannot tell, so we do not lead.
      if (httpStatusOf(error) !== 409) this.#report('acquiring or renewing', error);
      return this.#setLeading(false);
    }
  }

  #setLeading(leading: boolean): boolean {
    if (leading !== this.#leading) {
      this.#leading = leading;
      if (leading) this.#o.onStartedLeading?.();
      else this.#o.onStoppedLeading?.();
      for (const listener of this.#listeners) listener(leading);
    }
    return leading;
  }

  #report(what: string, error: unknown): void {
    this.#o.onError?.(
      new PortcullisError(
        'ERR_KUBE_API',
        `leader election: ${what} Lease ${this.#o.namespace}/${this.#o.name}: ${describeApiError(error)}`,
        { cause: error },
      ),
    );
  }
}

/** The LeaseApi of a cluster (coordination.k8s.io/v1 through the generic object client). */
export function kubeLeaseApi(kubeConfig: KubeConfig): LeaseApi {
  const custom: CustomObjectsApi = makeClients(kubeConfig).custom;
  const at = { group: 'coordination.k8s.io', version: 'v1', plural: 'leases' };
  return {
    async get(namespace, name) {
      try {
        return (await custom.getNamespacedCustomObject({ ...at, namespace, name })) as LeaseObject;
      } catch (error) {
        if (httpStatusOf(error) === 404) return undefined;
        throw error;
      }
    },
    async create(namespace, lease) {
      await custom.createNamespacedCustomObject({ ...at, namespace, body: lease });
    },
    async replace(namespace, lease) {
      await custom.replaceNamespacedCustomObject({ ...at, namespace, name: lease.metadata.name, body: lease });
    },
  };
}
