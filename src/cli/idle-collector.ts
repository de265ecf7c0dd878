import type { ImageVerifier } from '../executor/index.js';

/** The timer an IdleCollector uses (setTimeout/clearTimeout by default; a test's fake). */
export interface IdleTimers {
  set(fn: () => void, ms: number): unknown;
  clear(handle: unknown): void;
}

export interface IdleCollectorOptions {
  /** Quiet time (no review in flight, none ended) before collecting, ms; 0 or less = never. */
  readonly idleMs: number;
  /** Reviews since the last collection needed for the next one (a trickle of reviews never triggers one). */
  readonly minReviews: number;
  /** The collection itself (collectGarbage and its log line and metric, in serve). */
  readonly collect: () => void;
  /**
   * Run `settleMs` after the collection if no review came since: V8 shrinks its young generation
   * (32 MiB committed after a burst) only at a collection that finds the allocation rate of the
   * last 5 s low, which the collection right after the burst does not (shrinkYoungGeneration).
   */
  readonly settle?: () => void;
  /** Default 6000: more than V8's 5 s window of allocation rate. */
  readonly settleMs?: number;
  /** Milliseconds, monotonic. Default performance.now. */
  readonly now?: () => number;
  readonly timers?: IdleTimers;
}

const REAL_TIMERS: IdleTimers = {
  set(fn, ms) {
    const t = setTimeout(fn, ms);
    t.unref(); // never what keeps the process alive
    return t;
  },
  clear: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/**
 * Runs one full collection after a burst of reviews, once the webhook has been idle for `idleMs`.
 * V8 keeps the heap it grew during a burst committed until its next collection, which in an idle
 * server comes only from V8's memory reducer, some 15-40 s later: until then RSS stays where the
 * burst left it (README, Performance → Memory).
 *
 * On the review path only counters and one clock read: `begin` arms a timer once `minReviews`
 * reviews came since the last collection; when it fires, a review in flight or one that ended
 * less than `idleMs` ago re-arms it for the rest. After a collection no timer runs until enough
 * new reviews come: never twice for one burst, never repeatedly while idle (but for `settle`,
 * once, `settleMs` after the collection).
 */
export class IdleCollector {
  readonly #idleMs: number;
  readonly #minReviews: number;
  readonly #collect: () => void;
  readonly #settle: (() => void) | undefined;
  readonly #settleMs: number;
  readonly #now: () => number;
  readonly #timers: IdleTimers;
  #inFlight = 0;
  #reviews = 0;
  #lastEnd = 0;
  #timer: unknown;
  #armed = false;
  #settling = false;
  #stopped = false;

  constructor(o: IdleCollectorOptions) {
    this.#idleMs = o.idleMs;
    this.#minReviews = Math.max(1, o.minReviews);
    this.#collect = o.collect;
    this.#settle = o.settle;
    this.#settleMs = o.settleMs ?? 6000;
    this.#now = o.now ?? (() => performance.now());
    this.#timers = o.timers ?? REAL_TIMERS;
  }

  get enabled(): boolean {
    return this.#idleMs > 0 && !this.#stopped;
  }

  /** A review started. */
  begin(): void {
    this.#inFlight++;
    if (++this.#reviews >= this.#minReviews && !this.#armed && this.enabled) this.#arm(this.#idleMs);
  }

  /** A review was answered (call once per `begin`). */
  end(): void {
    this.#inFlight--;
    this.#lastEnd = this.#now();
  }

  /** No more collections (serve's stop). */
  stop(): void {
    this.#stopped = true;
    if (this.#armed) this.#timers.clear(this.#timer);
    this.#armed = false;
  }

  #arm(ms: number): void {
    this.#armed = true;
    this.#timer = this.#timers.set(() => this.#fire(), ms);
  }

  #fire(): void {
    this.#armed = false;
    if (this.#stopped) return;
    if (this.#settling) {
      this.#settling = false;
      if (this.#reviews === 0 && this.#inFlight === 0) return this.#settle?.();
      // Reviews came: the next burst's collection settles instead.
      if (this.#reviews < this.#minReviews) return;
    }
    if (this.#inFlight > 0) return this.#arm(this.#idleMs);
    const quiet = this.#now() - this.#lastEnd;
    if (quiet < this.#idleMs) return this.#arm(this.#idleMs - quiet);
    this.#reviews = 0;
    this.#collect();
    if (this.#settle !== undefined) {
      this.#settling = true;
      this.#arm(this.#settleMs);
    }
  }
}

/** The webhook's verifier, telling the collector when each review starts and ends; decisions untouched. */
export function withIdleTracking(verifier: ImageVerifier, idle: IdleCollector): ImageVerifier {
  if (!idle.enabled) return verifier;
  return {
    ready: () => verifier.ready(),
    decide(review) {
      idle.begin();
      let decided;
      try {
        decided = verifier.decide(review);
      } catch (error) {
        idle.end(); // decide never throws; should it, the count stays true
        throw error;
      }
      if (!(decided instanceof Promise)) {
        idle.end(); // a warm review: answered at once
        return decided;
      }
      return decided.finally(() => idle.end());
    },
  };
}
