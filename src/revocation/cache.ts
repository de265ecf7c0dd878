import { LRUCache } from 'lru-cache';

/**
 * Verified revocation answers by URL: lru-cache bounded by bytes (`maxSize`, each entry's size
 * given by the caller), each entry expiring at its own time (the answer's nextUpdate) on the
 * injected clock. The cache holds no global state: the checker owns one.
 */
export class ByteLruCache<V extends NonNullable<unknown>> {
  readonly #cache: LRUCache<string, V>;
  readonly #now: () => number;

  constructor(maxBytes: number, now: () => number) {
    this.#now = now;
    // ttlResolution 0: the clock is read on every lookup. lru-cache takes a start time of 0 for
    // "no TTL", so its clock is ours plus one (differences, which is all it uses, are the same).
    this.#cache = new LRUCache<string, V>({ maxSize: maxBytes, ttlResolution: 0, perf: { now: () => now() + 1 } });
  }

  get bytes(): number {
    return this.#cache.calculatedSize;
  }

  get size(): number {
    return this.#cache.size;
  }

  /** The value, or undefined when absent or expired (an expired entry is dropped). */
  get(key: string): V | undefined {
    return this.#cache.get(key);
  }

  /** Stores until `expiresAt` (clock ms). Values larger than the whole budget are not stored. */
  set(key: string, value: V, bytes: number, expiresAt: number): void {
    this.#cache.delete(key);
    const ttl = expiresAt - this.#now();
    // lru-cache keeps an entry while its age is at most the TTL; expired is age ≥ ttl here.
    if (ttl <= 0 || bytes > this.#cache.maxSize) return;
    this.#cache.set(key, value, { size: Math.max(1, bytes), ttl: Math.max(1, Math.ceil(ttl) - 1) });
  }

  delete(key: string): void {
    this.#cache.delete(key);
  }

  clear(): void {
    this.#cache.clear();
  }
}
