/**
 * Collapses concurrent work on the same key into one run: callers arriving while it runs get
 * the same promise. Nothing is remembered after it settles (that is what caches are for), so a
 * failure is never replayed to later callers. The work starts on the next microtask, so a
 * synchronous throw becomes the shared run's rejection. The executor (registry reads,
 * verifications) and the revocation checker (OCSP and CRL fetches) share it.
 */
export class SingleFlight {
  readonly #inFlight = new Map<string, Promise<unknown>>();

  run<T>(key: string, work: () => Promise<T>): Promise<T> {
    const running = this.#inFlight.get(key);
    if (running !== undefined) return running as Promise<T>;
    const promise = Promise.resolve()
      .then(work)
      .finally(() => this.#inFlight.delete(key));
    this.#inFlight.set(key, promise);
    return promise;
  }

  get size(): number {
    return this.#inFlight.size;
  }
}
