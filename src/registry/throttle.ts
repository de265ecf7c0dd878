/**
 * How many requests to one registry origin may be in flight, learned from its 429s, as TCP
 * learns a path's capacity (additive increase, multiplicative decrease): unlimited until the
 * registry first says "too many"; then half of what was in flight, and no new request before
 * its Retry-After has passed; one more for each full window of answers without a 429, and
 * unlimited again once past what was in flight when it began. A burst against a throttled
 * registry then queues here, in order, instead of each request collecting 429s and sleeping on
 * its own (which hammers the registry again the moment all of them wake up). A retry goes ahead
 * of requests not yet sent: it has waited longest.
 */

/** The registry asked for a pause that outlasts the request's deadline: no use waiting. */
export class ThrottledTooLong extends Error {
  constructor(readonly pausedForMs: number) {
    super(`the registry asked to wait ${(pausedForMs / 1000).toFixed(1)} s more`);
  }
}

interface Waiter {
  readonly resolve: (startedAt: number) => void;
  readonly reject: (reason: unknown) => void;
  readonly signal: AbortSignal;
  readonly onAbort: () => void;
}

export interface ThrottleState {
  readonly active: number;
  /** Requests allowed in flight; undefined when the registry has not throttled (or no longer does). */
  readonly limit: number | undefined;
  readonly waiting: number;
  /** How long new requests still wait for the registry's Retry-After, ms. */
  readonly pausedForMs: number;
}

export class OriginThrottle {
  readonly #now: () => number;
  #active = 0;
  #limit: number | undefined;
  /** In flight when the registry first throttled: past it, the limit is lifted. */
  #peak = 0;
  #resumeAt = 0;
  /** When the limit was last halved: 429s to requests sent before it say nothing new. */
  #reducedAt = -Infinity;
  #answered = 0;
  readonly #queue: Waiter[] = [];
  #timer: NodeJS.Timeout | undefined;

  constructor(now: () => number = () => performance.now()) {
    this.#now = now;
  }

  get state(): ThrottleState {
    return {
      active: this.#active,
      limit: this.#limit,
      waiting: this.#queue.length,
      pausedForMs: Math.max(0, this.#resumeAt - this.#now()),
    };
  }

  /** Whether nothing is remembered: no request in flight or waiting, no limit, no pause. */
  get idle(): boolean {
    return this.#active === 0 && this.#queue.length === 0 && this.#limit === undefined && this.#resumeAt <= this.#now();
  }

  /**
   * Waits for a turn; resolves with the time the request may start (pass it to `release`).
   * Rejects with the signal's reason when it aborts first, and at once with a ThrottledTooLong
   * when the registry asked for a pause that ends after `deadline` (a `now()` time).
   */
  acquire(
    signal: AbortSignal,
    options: { readonly retry?: boolean; readonly deadline?: number } = {},
  ): Promise<number> {
    if (signal.aborted) return Promise.reject(signal.reason);
    const retry = options.retry === true;
    if (options.deadline !== undefined && this.#resumeAt > options.deadline)
      return Promise.reject(new ThrottledTooLong(this.#resumeAt - this.#now()));
    if (this.#queue.length === 0 && this.#free()) {
      this.#active++;
      return Promise.resolve(this.#now());
    }
    return new Promise<number>((resolve, reject) => {
      const waiter: Waiter = {
        resolve,
        reject,
        signal,
        onAbort: () => {
          const i = this.#queue.indexOf(waiter);
          if (i >= 0) this.#queue.splice(i, 1);
          reject(signal.reason);
        },
      };
      signal.addEventListener('abort', waiter.onAbort, { once: true });
      if (retry) this.#queue.unshift(waiter);
      else this.#queue.push(waiter);
      this.#pump();
    });
  }

  /**
   * A request started at `startedAt` was answered. `retryAfterMs` is set when the registry
   * refused it for the rate (429): how long it asked to wait (or the caller's backoff).
   */
  release(startedAt: number, retryAfterMs?: number): void {
    this.#active--;
    const now = this.#now();
    if (retryAfterMs !== undefined) {
      this.#resumeAt = Math.max(this.#resumeAt, now + retryAfterMs);
      if (startedAt > this.#reducedAt) {
        if (this.#limit === undefined) this.#peak = this.#active + 1;
        this.#limit = Math.max(1, Math.floor((this.#limit ?? this.#active + 1) / 2));
        this.#reducedAt = now;
        this.#answered = 0;
      }
    } else if (this.#limit !== undefined && startedAt > this.#reducedAt) {
      if (++this.#answered >= this.#limit) {
        this.#answered = 0;
        this.#limit++;
        if (this.#limit > this.#peak) this.#limit = undefined;
      }
    }
    this.#pump();
  }

  #free(): boolean {
    return this.#active < (this.#limit ?? Infinity) && this.#now() >= this.#resumeAt;
  }

  #pump(): void {
    while (this.#queue.length > 0 && this.#free()) {
      const waiter = this.#queue.shift() as Waiter;
      waiter.signal.removeEventListener('abort', waiter.onAbort);
      this.#active++;
      waiter.resolve(this.#now());
    }
    const wait = this.#resumeAt - this.#now();
    if (this.#queue.length > 0 && wait > 0 && this.#timer === undefined) {
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        this.#pump();
      }, Math.ceil(wait));
    }
  }
}
