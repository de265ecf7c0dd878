/**
 * Collapses concurrent work on the same key into one run: callers arriving while it runs get
 * the same promise. Nothing is remembered after it settles (that is what the caches are for),
 * so a failure is never replayed to later callers. Each caller bounds its own wait with its
 * own deadline (Budget.race); the shared run is bounded by the deadline of the caller that
 * started it.
 */
import { isPortcullisError } from '../errors/index.js';
import type { Budget } from './budget.js';
import { REVIEW_LIMIT_CODES } from './review-scope.js';

/** Failures that belong to the caller that started the run (its deadline, its review's share), not to the work. */
const STARTER_CODES: ReadonlySet<string> = new Set([
  'ERR_REGISTRY_TIMEOUT',
  'ERR_DEADLINE_EXCEEDED',
  ...REVIEW_LIMIT_CODES,
]);

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
   * another check, which then failed only because of *that* check — its time ran out, or its
   * review's share was used up — starts its own run when it still has time: a short deadline
   * never fails a longer one, and one review's limits never deny another's image.
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
      if (mine || !isPortcullisError(error) || !STARTER_CODES.has(error.code) || !budget.canStartCall()) throw error;
      return budget.race(this.run(key, work), what);
    }
  }

  get size(): number {
    return this.#inFlight.size;
  }
}
