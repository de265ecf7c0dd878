import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

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
  /** Kind of the reviewed object (`Pod`, `Deployment`, …), `unknown` when the body was malformed. */
  readonly kind: string;
  /** `CREATE`, `UPDATE`, …; `unknown` when the body was malformed. */
  readonly operation: string;
}

export interface Metrics {
  /** One AdmissionReview (or Gatekeeper ProviderRequest, with kind `ProviderRequest`) answered. */
  observeAdmission(labels: AdmissionLabels): void;
  /** Wall time from request to answer, for every endpoint. */
  observeRequestDuration(endpoint: Endpoint, seconds: number): void;
  /** One image decided at the edge: allowed, denied, or error (no verdict; failure policy applied). */
  observeImageDecision(endpoint: Endpoint, result: AdmissionResult): void;
  /** One HTTP request to a registry (the executor calls this). `status` is the HTTP status or an error class such as `timeout`. */
  observeRegistryRequest(host: string, status: number | string): void;
  /** One cache lookup (the executor calls this): cache names such as `tag`, `referrers`, `blob`, `verdict`. */
  observeCacheLookup(cache: string, hit: boolean): void;
  /** One verification check result (the executor calls this): check `integrity`…`revocation`, status `passed|failed|logged|skipped`. */
  observeVerification(check: string, status: string): void;
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
}

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

  constructor(options: PromMetricsOptions = {}) {
    const p = options.prefix ?? 'portcullis_';
    const registers = [(this.registry = new Registry())];
    this.#admissions = new Counter({
      name: `${p}admission_decisions_total`,
      help: 'AdmissionReviews and Gatekeeper requests answered, by endpoint, result (allowed, denied, error), kind and operation.',
      labelNames: ['endpoint', 'result', 'kind', 'operation'],
      registers,
    });
    this.#duration = new Histogram({
      name: `${p}request_duration_seconds`,
      help: 'Time from receiving a request to answering it, by endpoint.',
      labelNames: ['endpoint'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.#images = new Counter({
      name: `${p}image_decisions_total`,
      help: 'Images decided, by endpoint and result (allowed, denied, error = no verdict reached).',
      labelNames: ['endpoint', 'result'],
      registers,
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
    });
    if (options.processMetrics ?? true) collectDefaultMetrics({ register: this.registry, prefix: p });
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  observeAdmission(labels: AdmissionLabels): void {
    this.#admissions.inc({ endpoint: labels.endpoint, result: labels.result, kind: labels.kind, operation: labels.operation });
  }

  observeRequestDuration(endpoint: Endpoint, seconds: number): void {
    this.#duration.observe({ endpoint }, seconds);
  }

  observeImageDecision(endpoint: Endpoint, result: AdmissionResult): void {
    this.#images.inc({ endpoint, result });
  }

  observeRegistryRequest(host: string, status: number | string): void {
    this.#registryRequests.inc({ host, status: String(status) });
  }

  observeCacheLookup(cache: string, hit: boolean): void {
    this.#cache.inc({ cache, result: hit ? 'hit' : 'miss' });
  }

  observeVerification(check: string, status: string): void {
    this.#verifications.inc({ check, status });
  }

  startRequest(endpoint: Endpoint): () => void {
    this.#inFlight.inc({ endpoint });
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.#inFlight.dec({ endpoint });
    };
  }

  render(): Promise<string> {
    return this.registry.metrics();
  }
}

/** Records nothing; for tests and for callers that do not export metrics. */
export class NoopMetrics implements Metrics {
  readonly contentType = 'text/plain; version=0.0.4; charset=utf-8';
  observeAdmission(_labels: AdmissionLabels): void {}
  observeRequestDuration(_endpoint: Endpoint, _seconds: number): void {}
  observeImageDecision(_endpoint: Endpoint, _result: AdmissionResult): void {}
  observeRegistryRequest(_host: string, _status: number | string): void {}
  observeCacheLookup(_cache: string, _hit: boolean): void {}
  observeVerification(_check: string, _status: string): void {}
  startRequest(_endpoint: Endpoint): () => void {
    return () => {};
  }
  render(): Promise<string> {
    return Promise.resolve('');
  }
}
