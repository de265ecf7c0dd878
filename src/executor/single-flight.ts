import { isPortcullisError } from '../errors/index.js';
import { SingleFlight } from '../util/index.js';
import type { Budget } from './budget.js';
import { REVIEW_LIMIT_CODES } from './review-scope.js';

/**
 * The executor's single flight (util's), with each caller's wait bounded by its own deadline
 * (Budget.race); the shared run is bounded by the deadline of the caller that started it.
 */

/** Failures that belong to the caller that started the run (its deadline, its review's share), not to the work. */
const STARTER_CODES: ReadonlySet<string> = new Set([
  'ERR_REGISTRY_TIMEOUT',
  'ERR_DEADLINE_EXCEEDED',
  ...REVIEW_LIMIT_CODES,
]);

export class SharedWork extends SingleFlight {
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
}
