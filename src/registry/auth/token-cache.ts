/**
 * Bearer tokens by key (registry host, scopes, credential identity) until they expire, minus a
 * margin so a token is not sent in its last seconds. Bounded: the oldest entry goes first.
 * The clock is injected so expiry is testable.
 */

/** distribution's token spec: a token without expires_in is good for 60 s. */
export const DEFAULT_TOKEN_LIFETIME_S = 60;
/** Stop using a token this long before it expires (at most half its lifetime). */
const EXPIRY_MARGIN_MS = 10_000;
const DEFAULT_MAX_ENTRIES = 1024;

interface Entry {
  readonly token: string;
  readonly expiresAt: number;
}

export class TokenCache {
  readonly #now: () => number;
  readonly #maxEntries: number;
  readonly #entries = new Map<string, Entry>();

  constructor(now: () => number = Date.now, maxEntries = DEFAULT_MAX_ENTRIES) {
    this.#now = now;
    this.#maxEntries = maxEntries;
  }

  get(key: string): string | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    if (this.#now() >= entry.expiresAt) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry.token;
  }

  /** Stores a token for `expiresInSeconds` (default 60) minus the margin. */
  set(key: string, token: string, expiresInSeconds?: number): void {
    const lifetimeMs =
      (expiresInSeconds !== undefined && Number.isFinite(expiresInSeconds) && expiresInSeconds > 0
        ? expiresInSeconds
        : DEFAULT_TOKEN_LIFETIME_S) * 1000;
    const margin = Math.min(EXPIRY_MARGIN_MS, lifetimeMs / 2);
    this.#entries.delete(key);
    this.#entries.set(key, { token, expiresAt: this.#now() + lifetimeMs - margin });
    while (this.#entries.size > this.#maxEntries) {
      const oldest = this.#entries.keys().next().value as string;
      this.#entries.delete(oldest);
    }
  }

  delete(key: string): void {
    this.#entries.delete(key);
  }

  get size(): number {
    return this.#entries.size;
  }
}
