import { createHash, type Hash } from 'node:crypto';
import { PortcullisError } from '../errors/index.js';
import type { CertificateCache } from '../x509/index.js';
import { buildSnapshot } from './build.js';
import type { InvalidResource, PolicySnapshot } from './types.js';

/**
 * Where policy snapshots come from: a directory of manifests (src/policy-source) or the
 * Kubernetes API (src/kube). Both only adapt their input to a SnapshotFeed; the webhook starts
 * one and installs each snapshot it is handed.
 */
export interface PolicySource {
  /** Starts reading; each new snapshot (the first included) is handed to `onSnapshot`. */
  start(onSnapshot: (snapshot: PolicySnapshot) => void): Promise<void>;
  /** Stops reading; the last snapshot stays readable. */
  stop(): Promise<void>;
  /** The snapshot in force, or undefined before the first. */
  current(): PolicySnapshot | undefined;
}

/** The identity of a source's content: a snapshot is built only when it changes. */
export class Fingerprint {
  readonly #hash: Hash = createHash('sha256');

  /** Adds the parts, each closed by a NUL, so that ("ab", "c") and ("a", "bc") differ. */
  add(...parts: readonly (string | number | Uint8Array)[]): this {
    for (const part of parts) {
      this.#hash.update(typeof part === 'number' ? String(part) : part);
      this.#hash.update('\u0000');
    }
    return this;
  }

  digest(): string {
    return this.#hash.digest('hex');
  }
}

/** One reading of a source: what the snapshot is built from. */
export interface FeedInput {
  readonly fingerprint: string;
  readonly resources: readonly unknown[];
  /** `origins[i]` says where `resources[i]` came from (a file), for messages. */
  readonly origins?: readonly (string | undefined)[];
  /** Problems the source found before parsing (unreadable, oversized, too many). */
  readonly sourceErrors: readonly InvalidResource[];
}

export interface SnapshotFeedOptions {
  readonly certificateCache: CertificateCache;
  /** Namespace of namespaced resources that name none. Default `default`, as kubectl. */
  readonly defaultNamespace?: string;
  /** Errors thrown by the subscriber (the snapshot stays in force all the same). */
  readonly onError: (error: PortcullisError) => void;
}

/**
 * The one path from a source's reading to the snapshot in force: compare the fingerprint, build
 * the snapshot (against the previous one, so a broken edit keeps the last valid version), count
 * the revision, notify the subscriber (its errors reported, never thrown into the source) and
 * whoever waits for the first snapshot. No I/O and no timers: the sources decide when to read.
 */
export class SnapshotFeed {
  readonly #options: SnapshotFeedOptions;
  #subscriber: ((snapshot: PolicySnapshot) => void) | undefined;
  #current: PolicySnapshot | undefined;
  #fingerprint: string | undefined;
  #revision = 0;
  #waiters: (() => void)[] = [];

  constructor(options: SnapshotFeedOptions) {
    this.#options = options;
  }

  /** The snapshot in force, or undefined before the first. */
  current(): PolicySnapshot | undefined {
    return this.#current;
  }

  /** Resolves when the first snapshot has been built (at once if it has). */
  whenReady(): Promise<void> {
    if (this.#current !== undefined) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** Sets (or with undefined, clears) who is handed each new snapshot. */
  subscribe(onSnapshot: ((snapshot: PolicySnapshot) => void) | undefined): void {
    this.#subscriber = onSnapshot;
  }

  get subscribed(): boolean {
    return this.#subscriber !== undefined;
  }

  /** Whether a reading with this fingerprint would build a new snapshot. */
  changed(fingerprint: string): boolean {
    return fingerprint !== this.#fingerprint;
  }

  /** Builds and hands out a snapshot when the content changed; returns it, or undefined when nothing changed. */
  offer(input: FeedInput): PolicySnapshot | undefined {
    if (!this.changed(input.fingerprint)) return undefined;
    const previous = this.#current;
    const snapshot = buildSnapshot({
      resources: input.resources,
      ...(input.origins === undefined ? {} : { origins: input.origins }),
      sourceErrors: input.sourceErrors,
      revision: ++this.#revision,
      certificateCache: this.#options.certificateCache,
      ...(this.#options.defaultNamespace === undefined ? {} : { defaultNamespace: this.#options.defaultNamespace }),
      ...(previous === undefined ? {} : { previous }),
    });
    this.#fingerprint = input.fingerprint;
    this.#current = snapshot;
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const resolve of waiters) resolve();
    this.guard('the policy snapshot handler', () => this.#subscriber?.(snapshot));
    return snapshot;
  }

  /** Runs a hook of the source's; what it throws is reported as ERR_INTERNAL, never thrown on. */
  guard(what: string, hook: () => void): void {
    try {
      hook();
    } catch (error) {
      this.#options.onError(new PortcullisError('ERR_INTERNAL', `${what} failed: ${String(error)}`, { cause: error }));
    }
  }
}
