import { PortcullisError } from '../errors/index.js';
import type { CredentialProvider, PullSecretResolver, RegistryReader } from '../registry/index.js';
import type { Metrics } from '../metrics/index.js';
import type { RevocationChecker, VerificationPlugins } from '../verify/index.js';
import type { CertificateCache } from '../x509/index.js';
import type { ReviewLimits } from './review-scope.js';
import type { FailurePolicy } from './types.js';

/**
 * Everything the Executor can be told, with the defaults it uses when a field is unset.
 * `resolveOptions` fills the defaults once, at construction; nothing re-reads the options later.
 * Durations are milliseconds, sizes bytes or entries as named.
 */

export interface ExecutorOptions {
  /** The registry (a RegistryClient: one connection pool per registry; credentials are passed per call). Required. */
  readonly registry: RegistryReader;
  /**
   * Metrics sink; default none. Wire registry requests with `observeRegistryRequests(metrics)` as the client's
   * `onRequest`.
   */
  readonly metrics?: Metrics;
  /** Registry credentials used when the pod's pull secrets have none for a host; default anonymous. */
  readonly defaultCredentials?: CredentialProvider;
  /** Turns `pullSecretNames` into credentials; default none (names are then ignored). */
  readonly pullSecrets?: PullSecretResolver;
  /** What to do when no verdict can be reached (registry unreachable, timeout, deadline): default `fail` (deny). */
  readonly failurePolicy?: FailurePolicy;
  /**
   * Deny images that no policy document covers (namespace without policies, or no statement for the repository).
   * Default false.
   */
  readonly denyUnmatchedNamespaces?: boolean;
  /**
   * Time kept back from the request deadline to build and send the answer: registry calls get
   * `deadline - marginMs - now` as their budget. Default 50 ms.
   */
  readonly deadlineMarginMs?: number;
  /** A registry call is not started with less than this left (the deadline is "near"). Default 20 ms. */
  readonly minCallBudgetMs?: number;
  /**
   * In-flight registry requests per registry host; more wait in a queue (bounded by each check's deadline). Default 32.
   */
  readonly maxConcurrentPerRegistry?: number;
  /**
   * Each review's share (for requests that carry a `review` token): registries it may make the
   * executor contact (default 10), images it may make it fetch (default 50), registry requests in
   * flight at once (default 16). Past the first two an image is denied (ERR_REVIEW_TOO_MANY_*).
   */
  readonly reviewLimits?: Partial<ReviewLimits>;
  /**
   * Tag → digest cache: TTL (default 30 s) and entries (default 10,000). Keyed by credential identity and reference.
   */
  readonly tagCacheTtlMs?: number;
  readonly tagCacheMaxEntries?: number;
  /**
   * Referrer (signature) lists: TTL (default 60 s; an empty list is kept only for `negativeVerdictTtlMs`) and entries
   * (default 10,000).
   */
  readonly referrersCacheTtlMs?: number;
  readonly referrersCacheMaxEntries?: number;
  /** Signature manifests and envelopes, immutable by digest: total bytes (default 64 MiB). No TTL. */
  readonly contentCacheMaxBytes?: number;
  /**
   * Positive verdicts: TTL (default 5 min; never beyond a signature or certificate expiry) and entries (default
   * 10,000).
   */
  readonly verdictCacheTtlMs?: number;
  readonly verdictCacheMaxEntries?: number;
  /** Negative verdicts (no signature, every signature rejected): TTL, default 30 s. 0 disables negative caching. */
  readonly negativeVerdictTtlMs?: number;
  /**
   * Failed signatures tolerated per artifact before giving up; default 100, as notation (so the answer is notation's;
   * the deadline bounds the time).
   */
  readonly maxSignatureAttempts?: number;
  /** OCSP/CRL revocation checker; default none (revocation is then `unknown`, handled by the statement's level). */
  readonly revocation?: RevocationChecker;
  /** Runs the verification plugins signatures name; default none (such signatures fail, ERR_PLUGIN_REQUIRED). */
  readonly verificationPlugins?: VerificationPlugins;
  /** Parsed-certificate cache shared by verifications; default a new one. */
  readonly certificateCache?: CertificateCache;
  /** The clock (epoch ms): verification time, cache TTLs, deadlines. Default Date.now. */
  readonly now?: () => number;
}

export interface ResolvedOptions {
  readonly registry: RegistryReader;
  readonly metrics: Metrics | undefined;
  readonly defaultCredentials: CredentialProvider | undefined;
  readonly pullSecrets: PullSecretResolver | undefined;
  readonly failurePolicy: FailurePolicy;
  readonly denyUnmatchedNamespaces: boolean;
  readonly deadlineMarginMs: number;
  readonly minCallBudgetMs: number;
  readonly maxConcurrentPerRegistry: number;
  readonly reviewLimits: ReviewLimits;
  readonly tagCacheTtlMs: number;
  readonly tagCacheMaxEntries: number;
  readonly referrersCacheTtlMs: number;
  readonly referrersCacheMaxEntries: number;
  readonly contentCacheMaxBytes: number;
  readonly verdictCacheTtlMs: number;
  readonly verdictCacheMaxEntries: number;
  readonly negativeVerdictTtlMs: number;
  readonly maxSignatureAttempts: number;
  readonly revocation: RevocationChecker | undefined;
  readonly verificationPlugins: VerificationPlugins | undefined;
  readonly certificateCache: CertificateCache | undefined;
  readonly now: () => number;
}

export const EXECUTOR_DEFAULTS = {
  failurePolicy: 'fail',
  denyUnmatchedNamespaces: false,
  deadlineMarginMs: 50,
  minCallBudgetMs: 20,
  maxConcurrentPerRegistry: 32,
  reviewLimits: { maxHosts: 10, maxImages: 50, maxConcurrent: 32 },
  tagCacheTtlMs: 30_000,
  tagCacheMaxEntries: 10_000,
  referrersCacheTtlMs: 60_000,
  referrersCacheMaxEntries: 10_000,
  contentCacheMaxBytes: 64 * 1024 * 1024,
  verdictCacheTtlMs: 5 * 60_000,
  verdictCacheMaxEntries: 10_000,
  negativeVerdictTtlMs: 30_000,
  maxSignatureAttempts: 100,
} as const;

function nonNegative(name: string, value: number | undefined, fallback: number, positive = false): number {
  const v = value ?? fallback;
  if (!Number.isFinite(v) || v < 0 || (positive && v <= 0)) {
    throw new PortcullisError(
      'ERR_CONFIG_INVALID',
      `executor option ${name} must be a ${positive ? 'positive' : 'non-negative'} number, got ${String(value)}`,
    );
  }
  return v;
}

function integer(name: string, value: number | undefined, fallback: number): number {
  const v = nonNegative(name, value, fallback, true);
  if (!Number.isSafeInteger(v))
    throw new PortcullisError(
      'ERR_CONFIG_INVALID',
      `executor option ${name} must be a positive integer, got ${String(value)}`,
    );
  return v;
}

export function resolveOptions(options: ExecutorOptions): ResolvedOptions {
  const d = EXECUTOR_DEFAULTS;
  const failurePolicy = options.failurePolicy ?? d.failurePolicy;
  if (failurePolicy !== 'fail' && failurePolicy !== 'ignore') {
    throw new PortcullisError(
      'ERR_CONFIG_INVALID',
      `executor option failurePolicy must be "fail" or "ignore", got ${JSON.stringify(failurePolicy)}`,
    );
  }
  return {
    registry: options.registry,
    metrics: options.metrics,
    defaultCredentials: options.defaultCredentials,
    pullSecrets: options.pullSecrets,
    failurePolicy,
    denyUnmatchedNamespaces: options.denyUnmatchedNamespaces ?? d.denyUnmatchedNamespaces,
    deadlineMarginMs: nonNegative('deadlineMarginMs', options.deadlineMarginMs, d.deadlineMarginMs),
    minCallBudgetMs: nonNegative('minCallBudgetMs', options.minCallBudgetMs, d.minCallBudgetMs),
    maxConcurrentPerRegistry: integer(
      'maxConcurrentPerRegistry',
      options.maxConcurrentPerRegistry,
      d.maxConcurrentPerRegistry,
    ),
    reviewLimits: {
      maxHosts: integer('reviewLimits.maxHosts', options.reviewLimits?.maxHosts, d.reviewLimits.maxHosts),
      maxImages: integer('reviewLimits.maxImages', options.reviewLimits?.maxImages, d.reviewLimits.maxImages),
      maxConcurrent: integer(
        'reviewLimits.maxConcurrent',
        options.reviewLimits?.maxConcurrent,
        d.reviewLimits.maxConcurrent,
      ),
    },
    tagCacheTtlMs: nonNegative('tagCacheTtlMs', options.tagCacheTtlMs, d.tagCacheTtlMs),
    tagCacheMaxEntries: integer('tagCacheMaxEntries', options.tagCacheMaxEntries, d.tagCacheMaxEntries),
    referrersCacheTtlMs: nonNegative('referrersCacheTtlMs', options.referrersCacheTtlMs, d.referrersCacheTtlMs),
    referrersCacheMaxEntries: integer(
      'referrersCacheMaxEntries',
      options.referrersCacheMaxEntries,
      d.referrersCacheMaxEntries,
    ),
    contentCacheMaxBytes: integer('contentCacheMaxBytes', options.contentCacheMaxBytes, d.contentCacheMaxBytes),
    verdictCacheTtlMs: nonNegative('verdictCacheTtlMs', options.verdictCacheTtlMs, d.verdictCacheTtlMs),
    verdictCacheMaxEntries: integer('verdictCacheMaxEntries', options.verdictCacheMaxEntries, d.verdictCacheMaxEntries),
    negativeVerdictTtlMs: nonNegative('negativeVerdictTtlMs', options.negativeVerdictTtlMs, d.negativeVerdictTtlMs),
    maxSignatureAttempts: integer('maxSignatureAttempts', options.maxSignatureAttempts, d.maxSignatureAttempts),
    revocation: options.revocation,
    verificationPlugins: options.verificationPlugins,
    certificateCache: options.certificateCache,
    now: options.now ?? Date.now,
  };
}
