import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { BoundedHosts, kindLabel, operationLabel, statusLabel } from './labels.js';
import { PendingCounts } from './pending-counts.js';

/**
 * What Portcullis measures. The HTTP edge and the executor record through this interface; the
 * prom-client implementation keeps its own Registry (never the global default one), so two apps
 * in one process (tests, the benchmark) never share or collide on metrics.
 */

/** Which HTTP endpoint a request was for (label `endpoint`). */
export type Endpoint = 'validate' | 'mutate' | 'gatekeeper_verify' | 'gatekeeper_mutate';

/** The outcome of one AdmissionReview: `error` is a 4xx/5xx answer (malformed, oversized, internal). */
export type AdmissionResult = 'allowed' | 'denied' | 'error';

export interface AdmissionLabels {
  readonly endpoint: Endpoint;
  readonly result: AdmissionResult;
  /**
   * Kind of the reviewed object (`Pod`, `Deployment`, …), `unknown` when the body was malformed; recorded as `other`
   * when not a handled kind.
   */
  readonly kind: string;
  /**
   * `CREATE`, `UPDATE`, …; `unknown` when the body was malformed; recorded as `other` when not an admission operation.
   */
  readonly operation: string;
}

export interface Metrics {
  /** One AdmissionReview (or Gatekeeper ProviderRequest, with kind `ProviderRequest`) answered. */
  observeAdmission(labels: AdmissionLabels): void;
  /** Wall time from request to answer, for every endpoint. */
  observeRequestDuration(endpoint: Endpoint, seconds: number): void;
  /** One image decided at the edge: allowed, denied, or error (no verdict; failure policy applied). */
  observeImageDecision(endpoint: Endpoint, result: AdmissionResult): void;
  /**
   * One HTTP request to a registry (the executor calls this). `status` is the HTTP status or an error class such as
   * `timeout`.
   */
  observeRegistryRequest(host: string, status: number | string, seconds?: number): void;
  /** One cache lookup (the executor calls this): cache names such as `tag`, `referrers`, `blob`, `verdict`. */
  observeCacheLookup(cache: string, hit: boolean): void;
  /**
   * One verification check result (the executor calls this): check `integrity`…`revocation`, status
   * `passed|failed|logged|skipped`.
   */
  observeVerification(check: string, status: string): void;
  /** One certificate's revocation answer: `good|revoked|unknown|nonRevokable`, from `ocsp|crl|preloaded|none`. */
  observeRevocation(result: string, source: string): void;
  /** The policy snapshot in force: its revision, when it took effect (epoch ms), its invalid documents by kind. */
  setPolicySnapshot(revision: number, atMs: number, invalidByKind: Readonly<Record<string, number>>): void;
  /** The results of the last audit (`pass`, `fail`, `warn`, `error`, `skip`), when it finished (epoch ms). */
  setAuditResults(results: Readonly<Record<string, number>>, atMs: number): void;
  /** One full garbage collection made after a burst of reviews, once the webhook was idle. */
  observeIdleCollection(): void;
  /** Marks a request in flight; call the returned function exactly once when it is answered. */
  startRequest(endpoint: Endpoint): () => void;
  /** The Prometheus text exposition of every metric. */
  render(): Promise<string>;
  /** The Content-Type for `render()`'s output. */
  readonly contentType: string;
}

export interface PromMetricsOptions {
  /** Metric name prefix. Default `portcullis_`. */
  readonly prefix?: string;
  /** Also collect Node.js process metrics (CPU, memory, event loop lag, GC). Default true. */
  readonly processMetrics?: boolean;
  /** Registry hosts that always get their own `host` label value (the configured registries). Default none. */
  readonly registryHosts?: Iterable<string>;
  /**
   * Other registry hosts labelled by name: the most recently successful ones, up to this many; the rest are `other`.
   * Default 20.
   */
  readonly maxRecentRegistryHosts?: number;
  /** The version for `portcullis_build_info`. Default `unknown`. */
  readonly version?: string;
  /** The clock of the snapshot's age. Default Date.now. */
  readonly now?: () => number;
}

const DEFAULT_MAX_RECENT_REGISTRY_HOSTS = 20;

/**
 * Latency buckets in seconds: the warm path is sub-millisecond to a few ms, the cold path is
 * registry round trips, and the API server gives up at the webhook timeout (at most 30 s).
 */
const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export class PromMetrics implements Metrics {
  readonly registry: Registry;
  readonly #admissions: Counter<'endpoint' | 'result' | 'kind' | 'operation'>;
  readonly #duration: Histogram<'endpoint'>;
  readonly #images: Counter<'endpoint' | 'result'>;
  readonly #registryRequests: Counter<'host' | 'status'>;
  readonly #cache: Counter<'cache' | 'result'>;
  readonly #verifications: Counter<'check' | 'status'>;
  readonly #inFlight: Gauge<'endpoint'>;
  readonly #registryDuration: Histogram<'host'>;
  readonly #revocation: Counter<'result' | 'source'>;
  readonly #snapshotRevision: Gauge;
  readonly #snapshotAge: Gauge;
  readonly #invalid: Gauge<'kind'>;
  readonly #auditResults: Gauge<'result'>;
  readonly #auditTime: Gauge;
  readonly #idleCollections: Counter;
  #snapshotAt: number | undefined;
  #invalidKinds = new Set<string>();
  // The request path only adds to these; they are handed to prom-client when metrics are read
  // (each metric's `collect`), which keeps label hashing and validation off every request.
  readonly #pendingAdmissions = new PendingCounts<'endpoint' | 'result' | 'kind' | 'operation'>([
    'endpoint',
    'result',
    'kind',
    'operation',
  ]);
  readonly #pendingImages = new PendingCounts<'endpoint' | 'result'>(['endpoint', 'result']);
  readonly #pendingCache = new PendingCounts<'cache' | 'result'>(['cache', 'result']);
  readonly #pendingDurations = new Map<Endpoint, number[]>();
  readonly #inFlightNow = new Map<Endpoint, number>();
  readonly #hosts: BoundedHosts;
  /** The status label values recorded per registry host, to remove a host's series when it leaves the set. */
  readonly #hostStatuses = new Map<string, Set<string>>();

  constructor(options: PromMetricsOptions = {}) {
    const p = options.prefix ?? 'portcullis_';
    const registers = [(this.registry = new Registry())];
    this.#admissions = new Counter({
      name: `${p}admission_decisions_total`,
      help: 'AdmissionReviews and Gatekeeper requests answered, by endpoint, result (allowed, denied, error), kind and operation.',
      labelNames: ['endpoint', 'result', 'kind', 'operation'],
      registers,
      collect: () => this.#pendingAdmissions.flush(this.#admissions),
    });
    this.#duration = new Histogram({
      name: `${p}request_duration_seconds`,
      help: 'Time from receiving a request to answering it, by endpoint.',
      labelNames: ['endpoint'],
      buckets: LATENCY_BUCKETS,
      registers,
      collect: () => this.#flushDurations(),
    });
    this.#images = new Counter({
      name: `${p}image_decisions_total`,
      help: 'Images decided, by endpoint and result (allowed, denied, error = no verdict reached).',
      labelNames: ['endpoint', 'result'],
      registers,
      collect: () => this.#pendingImages.flush(this.#images),
    });
    this.#registryRequests = new Counter({
      name: `${p}registry_requests_total`,
      help: 'HTTP requests to registries, by registry host and status (HTTP status or error class).',
      labelNames: ['host', 'status'],
      registers,
    });
    this.#cache = new Counter({
      name: `${p}cache_lookups_total`,
      help: 'Cache lookups, by cache name and result (hit, miss).',
      labelNames: ['cache', 'result'],
      registers,
      collect: () => this.#pendingCache.flush(this.#cache),
    });
    this.#verifications = new Counter({
      name: `${p}verification_results_total`,
      help: 'Verification check results, by check (integrity, authenticity, authenticTimestamp, expiry, revocation) and status.',
      labelNames: ['check', 'status'],
      registers,
    });
    this.#inFlight = new Gauge({
      name: `${p}requests_in_flight`,
      help: 'Requests being answered right now, by endpoint.',
      labelNames: ['endpoint'],
      registers,
      collect: () => {
        for (const [endpoint, n] of this.#inFlightNow) this.#inFlight.set({ endpoint }, n);
      },
    });
    this.#registryDuration = new Histogram({
      name: `${p}registry_request_duration_seconds`,
      help: 'Duration of HTTP requests to registries, by registry host (the configured ones, the recent ones, else other).',
      labelNames: ['host'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    this.#revocation = new Counter({
      name: `${p}revocation_answers_total`,
      help: 'Revocation answers per certificate, by result (good, revoked, unknown, nonRevokable) and source (ocsp, crl, preloaded, none).',
      labelNames: ['result', 'source'],
      registers,
    });
    new Gauge({
      name: `${p}build_info`,
      help: 'Always 1; the version and Node.js version as labels.',
      labelNames: ['version', 'node'],
      registers,
    }).set({ version: options.version ?? 'unknown', node: process.versions.node }, 1);
    this.#snapshotRevision = new Gauge({
      name: `${p}policy_snapshot_revision`,
      help: 'Revision of the policy snapshot in force (0: none yet).',
      registers,
    });
    const now = options.now ?? Date.now;
    this.#snapshotAge = new Gauge({
      name: `${p}policy_snapshot_age_seconds`,
      help: 'Seconds since the policy snapshot in force took effect.',
      registers,
      collect: () => {
        if (this.#snapshotAt !== undefined) this.#snapshotAge.set(Math.max(0, (now() - this.#snapshotAt) / 1000));
      },
    });
    this.#invalid = new Gauge({
      name: `${p}policy_invalid_documents`,
      help: 'Policy resources of the snapshot in force that did not take effect, by kind.',
      labelNames: ['kind'],
      registers,
    });
    this.#auditResults = new Gauge({
      name: `${p}audit_results`,
      help: 'Workload container images of the last audit, by result (pass, fail, warn, error, skip).',
      labelNames: ['result'],
      registers,
    });
    this.#auditTime = new Gauge({
      name: `${p}audit_last_run_timestamp_seconds`,
      help: 'When the last audit finished (Unix time).',
      registers,
    });
    this.#idleCollections = new Counter({
      name: `${p}idle_collections_total`,
      help: 'Full garbage collections made after a burst of reviews, once the webhook was idle (memory.idleCollectionSeconds).',
      registers,
    });
    if (options.processMetrics ?? true) collectDefaultMetrics({ register: this.registry, prefix: p });
    this.#hosts = new BoundedHosts(
      options.registryHosts ?? [],
      options.maxRecentRegistryHosts ?? DEFAULT_MAX_RECENT_REGISTRY_HOSTS,
      (host) => {
        for (const status of this.#hostStatuses.get(host) ?? []) this.#registryRequests.remove({ host, status });
        this.#registryDuration.remove({ host });
        this.#hostStatuses.delete(host);
      },
    );
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  observeAdmission(labels: AdmissionLabels): void {
    // Kind and operation come from the request: only values of fixed lists become label values.
    this.#pendingAdmissions.add(
      labels.endpoint,
      labels.result,
      kindLabel(labels.kind),
      operationLabel(labels.operation),
    );
  }

  observeRequestDuration(endpoint: Endpoint, seconds: number): void {
    let pending = this.#pendingDurations.get(endpoint);
    if (pending === undefined) {
      pending = [];
      this.#pendingDurations.set(endpoint, pending);
    }
    pending.push(seconds);
    if (pending.length >= 4096) this.#flushDurations(); // bounded between scrapes
  }

  #flushDurations(): void {
    for (const [endpoint, pending] of this.#pendingDurations) {
      if (pending.length === 0) continue;
      const labels = { endpoint };
      for (const seconds of pending) this.#duration.observe(labels, seconds);
      pending.length = 0;
    }
  }

  observeImageDecision(endpoint: Endpoint, result: AdmissionResult): void {
    this.#pendingImages.add(endpoint, result);
  }

  observeRegistryRequest(host: string, status: number | string, seconds?: number): void {
    // The host comes from an image reference, which anyone who can create a pod writes.
    const label = this.#hosts.label(host, status);
    const statusText = statusLabel(status);
    let statuses = this.#hostStatuses.get(label);
    if (statuses === undefined) this.#hostStatuses.set(label, (statuses = new Set()));
    statuses.add(statusText);
    this.#registryRequests.inc({ host: label, status: statusText });
    if (seconds !== undefined) this.#registryDuration.observe({ host: label }, seconds);
  }

  observeRevocation(result: string, source: string): void {
    this.#revocation.inc({
      result: REVOCATION_RESULTS.has(result) ? result : 'other',
      source: REVOCATION_SOURCES.has(source) ? source : 'other',
    });
  }

  setPolicySnapshot(revision: number, atMs: number, invalidByKind: Readonly<Record<string, number>>): void {
    this.#snapshotRevision.set(revision);
    this.#snapshotAt = atMs;
    // Kinds come from the resources' own kinds: a fixed list (others are `other`).
    const counts = new Map<string, number>();
    for (const [kind, n] of Object.entries(invalidByKind)) {
      const label = INVALID_KINDS.has(kind) ? kind : 'other';
      counts.set(label, (counts.get(label) ?? 0) + n);
    }
    for (const kind of this.#invalidKinds) if (!counts.has(kind)) this.#invalid.set({ kind }, 0);
    for (const [kind, n] of counts) {
      this.#invalid.set({ kind }, n);
      this.#invalidKinds.add(kind);
    }
  }

  setAuditResults(results: Readonly<Record<string, number>>, atMs: number): void {
    for (const result of ['pass', 'fail', 'warn', 'error', 'skip'])
      this.#auditResults.set({ result }, results[result] ?? 0);
    this.#auditTime.set(atMs / 1000);
  }

  observeIdleCollection(): void {
    this.#idleCollections.inc();
  }

  observeCacheLookup(cache: string, hit: boolean): void {
    const result = hit ? 'hit' : 'miss';
    this.#pendingCache.add(cache, result);
  }

  observeVerification(check: string, status: string): void {
    this.#verifications.inc({ check, status });
  }

  startRequest(endpoint: Endpoint): () => void {
    const inFlight = this.#inFlightNow;
    inFlight.set(endpoint, (inFlight.get(endpoint) ?? 0) + 1);
    let done = false;
    return () => {
      if (done) return;
      done = true;
      inFlight.set(endpoint, (inFlight.get(endpoint) ?? 1) - 1);
    };
  }

  render(): Promise<string> {
    return this.registry.metrics();
  }
}

const REVOCATION_RESULTS: ReadonlySet<string> = new Set(['good', 'revoked', 'unknown', 'nonRevokable']);
const REVOCATION_SOURCES: ReadonlySet<string> = new Set(['ocsp', 'crl', 'preloaded', 'none']);
const INVALID_KINDS: ReadonlySet<string> = new Set([
  'TrustPolicy',
  'ClusterTrustPolicy',
  'TrustStore',
  'ClusterTrustStore',
  'Secret',
  'ConfigMap',
  'Namespace',
  'File',
  'Unknown',
]);

/** Records nothing; for tests and for callers that do not export metrics. */
export class NoopMetrics implements Metrics {
  readonly contentType = 'text/plain; version=0.0.4; charset=utf-8';
  observeAdmission(_labels: AdmissionLabels): void {}
  observeRequestDuration(_endpoint: Endpoint, _seconds: number): void {}
  observeImageDecision(_endpoint: Endpoint, _result: AdmissionResult): void {}
  observeRegistryRequest(_host: string, _status: number | string, _seconds?: number): void {}
  observeRevocation(_result: string, _source: string): void {}
  setPolicySnapshot(_revision: number, _atMs: number, _invalidByKind: Readonly<Record<string, number>>): void {}
  setAuditResults(_results: Readonly<Record<string, number>>, _atMs: number): void {}
  observeCacheLookup(_cache: string, _hit: boolean): void {}
  observeVerification(_check: string, _status: string): void {}
  observeIdleCollection(): void {}
  startRequest(_endpoint: Endpoint): () => void {
    return () => {};
  }
  render(): Promise<string> {
    return Promise.resolve('');
  }
}
