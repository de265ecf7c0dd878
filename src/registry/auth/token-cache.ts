import { LRUCache } from 'lru-cache';

/**
 * Bearer tokens by key (registry host, scopes, credential identity) until they expire, minus a
 * margin so a token is not sent in its last seconds: lru-cache with a TTL per token, bounded
 * (least recently used first out). The clock is injected so expiry is testable.
 */

/** distribution's token spec: a token without expires_in is good for 60 s. */
export const DEFAULT_TOKEN_LIFETIME_S = 60;
/** Stop using a token this long before it expires (at most half its lifetime). */
const EXPIRY_MARGIN_MS = 10_000;
const DEFAULT_MAX_ENTRIES = 1024;

export class TokenCache {
  readonly #entries: LRUCache<string, string>;

  constructor(now: () => number = Date.now, maxEntries = DEFAULT_MAX_ENTRIES) {
    // ttlResolution 0: the clock is read on every lookup. lru-cache takes a start time of 0 for
    // "no TTL", so its clock is ours plus one (it only uses differences).
    this.#entries = new LRUCache({ max: maxEntries, ttlResolution: 0, perf: { now: () => now() + 1 } });
  }

  get(key: string): string | undefined {
    return this.#entries.get(key);
  }

  /** Stores a token for `expiresInSeconds` (default 60) minus the margin. */
  set(key: string, token: string, expiresInSeconds?: number): void {
    const lifetimeMs =
      (expiresInSeconds !== undefined && Number.isFinite(expiresInSeconds) && expiresInSeconds > 0
        ? expiresInSeconds
        : DEFAULT_TOKEN_LIFETIME_S) * 1000;
    const margin = Math.min(EXPIRY_MARGIN_MS, lifetimeMs / 2);
    // lru-cache keeps an entry while its age is at most the TTL: a token is gone at lifetime - margin.
    this.#entries.set(key, token, { ttl: Math.max(1, Math.ceil(lifetimeMs - margin) - 1) });
  }

  delete(key: string): void {
    this.#entries.delete(key);
  }

  get size(): number {
    return this.#entries.size;
  }
}
