import type { Credential } from './credentials.js';

/** Helper answers are kept this long: a helper is a process per call. */
export const HELPER_CACHE_MS = 60_000;
/**
 * At most this many helper answers are kept (least recently used dropped first). The hosts come
 * from pod specs: with a `credsStore` every host a pod names is asked, so the cache must not
 * grow with what pods name.
 */
export const HELPER_CACHE_MAX_ENTRIES = 1000;

/** Credential-helper answers (promises, so concurrent asks share one process), bounded, LRU. */
export class HelperAnswers {
  readonly #max: number;
  // A Map iterates in insertion order: the first keys are the least recently used.
  readonly #entries = new Map<string, { at: number; value: Promise<Credential | undefined> }>();

  constructor(maxEntries = HELPER_CACHE_MAX_ENTRIES) {
    this.#max = maxEntries;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** The answer kept for `key` if younger than HELPER_CACHE_MS at `now`, else `ask()`'s (kept unless it fails). */
  get(key: string, now: number, ask: () => Promise<Credential | undefined>): Promise<Credential | undefined> {
    const entries = this.#entries;
    const cached = entries.get(key);
    if (cached !== undefined) {
      entries.delete(key);
      if (now - cached.at < HELPER_CACHE_MS) {
        entries.set(key, cached); // now the most recently used
        return cached.value;
      }
    }
    const entry = { at: now, value: ask() };
    entries.set(key, entry);
    entry.value.catch(() => {
      if (entries.get(key) === entry) entries.delete(key);
    });
    for (const oldest of entries.keys()) {
      if (entries.size <= this.#max) break;
      entries.delete(oldest);
    }
    return entry.value;
  }
}
