/**
 * "Find out once": while something about a registry is unknown (its auth scheme, whether it
 * has the Referrers API), one request finds out and the others wait for its answer, instead of
 * a burst of cold requests all asking the same question — each a wasted round trip against a
 * registry that may be counting them (429). The wait costs the others nothing when the
 * question is asked first anyway (the first request of an image goes ahead of the others).
 */

const NOTHING = (): void => undefined;

export class ProbeGate {
  readonly #pending = new Map<string, Promise<void>>();

  /**
   * Resolves at once when `known()` holds. Otherwise, when nobody is finding out about `key`,
   * the caller is the one: it gets a release function to call as soon as it knows (calling it
   * again does nothing). When somebody is, waits for its release and checks again. Rejects
   * with the signal's reason when the signal aborts while waiting.
   */
  async enter(key: string, known: () => boolean, signal: AbortSignal): Promise<() => void> {
    for (;;) {
      if (known()) return NOTHING;
      const pending = this.#pending.get(key);
      if (pending === undefined) break;
      await abortable(pending, signal);
    }
    let resolve: () => void = NOTHING;
    const finding = new Promise<void>((r) => (resolve = r));
    this.#pending.set(key, finding);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      if (this.#pending.get(key) === finding) this.#pending.delete(key);
      resolve();
    };
  }

  /** Keys being found out (for tests). */
  get size(): number {
    return this.#pending.size;
  }
}

function abortable(promise: Promise<void>, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<void>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    void promise.then(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    });
  });
}
