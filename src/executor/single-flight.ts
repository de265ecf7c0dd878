/**
 * Collapses concurrent work on the same key into one run: callers arriving while it runs get
 * the same promise. Nothing is remembered after it settles (that is what the caches are for),
 * so a failure is never replayed to later callers. Each caller bounds its own wait with its
 * own deadline (Budget.race); the shared run is bounded by the deadline of the caller that
 * started it.
 */
import { isPortcullisError } from '../errors/index.js';
import type { Budget } from './budget.js';

const TIMEOUT_CODES: ReadonlySet<string> = new Set(['ERR_REGISTRY_TIMEOUT', 'ERR_DEADLINE_EXCEEDED']);

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

  /**
   * `run`, with the caller's wait bounded by its own budget. A caller that joined a run started by
   * another check, which then failed only because *that* check's time ran out, starts its own
   * run when it still has time: a short deadline never fails a longer one.
   */
  async shared<T>(key: string, budget: Budget, what: string, work: () => Promise<T>): Promise<T> {
    let mine = false;
    try {
      return await budget.race(
        this.run(key, () => {
          mine = true;
          return work();
        }),
        what,
      );
    } catch (error) {
      if (mine || !isPortcullisError(error) || !TIMEOUT_CODES.has(error.code) || !budget.canStartCall()) throw error;
      return budget.race(this.run(key, work), what);
    }
  }

  get size(): number {
    return this.#inFlight.size;
  }
}
