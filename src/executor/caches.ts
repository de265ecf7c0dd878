import { LRUCache } from 'lru-cache';
import type { Metrics } from '../metrics/index.js';
import type { Descriptor } from '../oci/index.js';
import type { ResolvedOptions } from './options.js';
import type { ReferrerListing } from './referrer-listing.js';
import type { PolicyVerdict } from './types.js';

/**
 * The executor's caches, all bounded (entries or bytes) and all on the executor's clock:
 *
 * - `tag`: credential identity + `registry/repo:tag` → the manifest descriptor; entries;
 *   TTL `tagCacheTtlMs` (30 s).
 * - `digest`: credential identity + `registry/repo@digest` → the manifest descriptor (media type,
 *   size); entries (`tagCacheMaxEntries`); no TTL (immutable).
 * - `referrers`: credential identity + `registry/repo@digest` (+ artifact type for required
 *   artifacts) → the listing as far as read (`ReferrerListing`: the pages fetched so far and the
 *   next page's cursor; never taken for the whole until complete); entries; TTL
 *   `referrersCacheTtlMs` (60 s) from the first page, an empty list `negativeVerdictTtlMs`.
 * - `content`: digest → signature manifest / envelope bytes; bytes (each entry counted with
 *   `CONTENT_ENTRY_OVERHEAD_BYTES` more) and entries (`referrersCacheMaxEntries` × 2: a
 *   signature's manifest and envelope for as many images as the other caches hold); no TTL
 *   (immutable). Signatures are about 1 KiB: by bytes alone, 64 MiB held some 60,000 of them
 *   (30,000 images), so the heap kept growing for 20,000 images past the other caches' bounds.
 * - `verdict`: credential identity + `registry/repo@digest` + document id#generation + snapshot
 *   revision → the verdict; entries; positive TTL `verdictCacheTtlMs` (5 min, capped at the
 *   signature's and certificates' expiry), negative `negativeVerdictTtlMs` (30 s).
 *
 * Registry errors and timeouts are never cached. Content is keyed by digest alone: it is
 * content-addressed, and a caller can only ask for a digest it learnt from a referrer list
 * fetched under its own identity.
 */

/** What a content entry costs beyond its bytes: key, typed array and buffer objects, LRU slots. */
export const CONTENT_ENTRY_OVERHEAD_BYTES = 256;

export type CacheName = 'tag' | 'digest' | 'referrers' | 'content' | 'verdict';

/** A cached verdict of one document on one image, with the logged-check warnings it carries. */
export interface CachedVerdict {
  readonly verdict: PolicyVerdict;
}

export class ExecutorCaches {
  readonly tags: LRUCache<string, Descriptor>;
  /** Digest-pinned references: what the registry holds under the digest, to match the payload's media type and size. */
  readonly digests: LRUCache<string, Descriptor>;
  readonly referrers: LRUCache<string, ReferrerListing>;
  readonly content: LRUCache<string, Uint8Array>;
  readonly verdicts: LRUCache<string, CachedVerdict>;
  readonly #metrics: Metrics | undefined;

  constructor(options: ResolvedOptions) {
    const perf = { now: options.now };
    // ttlResolution 0: read the (injectable) clock on every check instead of a timer-cached value.
    const common = { perf, ttlResolution: 0 } as const;
    this.tags = new LRUCache({ ...common, max: options.tagCacheMaxEntries, ttl: Math.max(1, options.tagCacheTtlMs) });
    this.digests = new LRUCache({ ...common, max: options.tagCacheMaxEntries });
    this.referrers = new LRUCache({
      ...common,
      max: options.referrersCacheMaxEntries,
      ttl: Math.max(1, options.referrersCacheTtlMs),
    });
    this.content = new LRUCache({
      ...common,
      max: options.referrersCacheMaxEntries * 2,
      maxSize: options.contentCacheMaxBytes,
      sizeCalculation: (v) => v.length + CONTENT_ENTRY_OVERHEAD_BYTES,
    });
    this.verdicts = new LRUCache({
      ...common,
      max: options.verdictCacheMaxEntries,
      ttl: Math.max(1, options.verdictCacheTtlMs),
    });
    this.#metrics = options.metrics;
  }

  /** A lookup that is counted in the `cache_lookups_total` metric. */
  lookup<V extends object>(name: CacheName, cache: LRUCache<string, V>, key: string): V | undefined {
    const value = cache.get(key);
    this.#metrics?.observeCacheLookup(name, value !== undefined);
    return value;
  }

  /** Counts a lookup made with the cache's own `get` (the executor's synchronous warm path). */
  count(name: CacheName, hit: boolean): void {
    this.#metrics?.observeCacheLookup(name, hit);
  }

  clear(): void {
    this.tags.clear();
    this.digests.clear();
    this.referrers.clear();
    this.content.clear();
    this.verdicts.clear();
  }
}
