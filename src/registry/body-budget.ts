import type { PortcullisError } from '../errors/index.js';
import { operationError, type Operation } from './operation.js';

/**
 * A process-wide budget of bytes buffered from registry responses at once. Each read is capped
 * (manifests and signatures at 4 MiB), but nothing bounded how many reads buffer at the same
 * time: many concurrent reviews naming large manifests on a hostile registry could hold
 * gigabytes. A read reserves its bytes before buffering them (the descriptor's size, the
 * declared Content-Length, else as they arrive) and gives them back when it is done. Over the
 * budget a read waits its turn (first come, first served) for at most `maxWaitMs` and its
 * operation's deadline, then fails with ERR_DOWNLOAD_BUDGET — which denies, whatever the
 * failure policy: memory pressure must never make the webhook admit.
 */

export const DEFAULT_BODY_BUDGET_BYTES = 64 * 1024 * 1024;
export const DEFAULT_BODY_BUDGET_WAIT_MS = 2000;

interface Waiter {
  readonly bytes: number;
  readonly grant: () => void;
}

export interface BodyBudgetOptions {
  /** Bytes buffered at once across every read (default 64 MiB). */
  readonly maxBytes?: number;
  /** How long a read waits for room before failing (default 2 s; never past its deadline). */
  readonly maxWaitMs?: number;
}

export class BodyBudget {
  readonly maxBytes: number;
  readonly #maxWaitMs: number;
  #used = 0;
  readonly #waiting: Waiter[] = [];
  #highWater = 0;

  constructor(options: BodyBudgetOptions = {}) {
    this.maxBytes = options.maxBytes ?? DEFAULT_BODY_BUDGET_BYTES;
    this.#maxWaitMs = options.maxWaitMs ?? DEFAULT_BODY_BUDGET_WAIT_MS;
  }

  /** Bytes reserved now. */
  get used(): number {
    return this.#used;
  }

  /** The most bytes ever reserved at once (for tests and diagnostics). */
  get highWater(): number {
    return this.#highWater;
  }

  /** Reads waiting for room. */
  get waiting(): number {
    return this.#waiting.length;
  }

  /** Reserves `bytes` for `op`, waiting for room; resolves once reserved. Give them back with `release`. */
  async reserve(op: Operation, bytes: number, what: string): Promise<void> {
    if (bytes <= 0) return;
    if (bytes > this.maxBytes) throw this.#error(op, what, `needs ${bytes} bytes, more than the whole budget`);
    if (this.#waiting.length === 0 && this.#used + bytes <= this.maxBytes) {
      this.#take(bytes);
      return;
    }
    await new Promise<void>((resolve, reject) => {
      const done = (error?: PortcullisError): void => {
        clearTimeout(timer);
        op.signal.removeEventListener('abort', onAbort);
        const i = this.#waiting.indexOf(waiter);
        if (i >= 0) this.#waiting.splice(i, 1);
        if (error === undefined) return resolve();
        reject(error);
        this.#pump(); // the reads behind it may fit now
      };
      const waiter: Waiter = { bytes, grant: () => done() };
      const fail = (): void => done(this.#error(op, what, `no room for ${bytes} bytes within ${this.#maxWaitMs} ms`));
      const onAbort = (): void => fail();
      const timer = setTimeout(fail, this.#maxWaitMs);
      op.signal.addEventListener('abort', onAbort, { once: true });
      this.#waiting.push(waiter);
      if (op.signal.aborted) fail();
    });
  }

  /** Gives `bytes` back and lets the waiters that now fit in, in order. */
  release(bytes: number): void {
    if (bytes <= 0) return;
    this.#used = Math.max(0, this.#used - bytes);
    this.#pump();
  }

  #pump(): void {
    for (;;) {
      const next = this.#waiting[0];
      if (next === undefined || this.#used + next.bytes > this.maxBytes) break;
      this.#take(next.bytes);
      next.grant(); // removes itself from the queue
    }
  }

  #take(bytes: number): void {
    this.#used += bytes;
    if (this.#used > this.#highWater) this.#highWater = this.#used;
  }

  #error(op: Operation, what: string, detail: string): PortcullisError {
    return operationError(
      op,
      'ERR_DOWNLOAD_BUDGET',
      `${what}: ${detail}: ${this.#used} of the ${this.maxBytes} bytes buffered from registries at once are in use (registries.maxBufferedBytes)`,
    );
  }
}

/**
 * One read's share of the budget, grown as the body arrives and released once: `ensure(total)`
 * reserves in steps of 64 KiB, or a known size exactly; `release()` gives everything back.
 */
export class BodyReservation {
  static readonly STEP = 64 * 1024;
  readonly #budget: BodyBudget | undefined;
  readonly #op: Operation;
  readonly #what: string;
  readonly #cap: number;
  #held = 0;

  constructor(budget: BodyBudget | undefined, op: Operation, what: string, cap: number) {
    this.#budget = budget;
    this.#op = op;
    this.#what = what;
    this.#cap = cap;
  }

  /**
   * Makes sure at least `total` bytes are reserved (waits for room when needed): exactly that
   * when the size is known (`exact`: a descriptor's size, a Content-Length), else in steps.
   */
  async ensure(total: number, exact = false): Promise<void> {
    if (this.#budget === undefined || total <= this.#held) return;
    const target = exact
      ? total
      : Math.min(Math.max(total, this.#held + BodyReservation.STEP), Math.max(this.#cap, total));
    const more = target - this.#held;
    await this.#budget.reserve(this.#op, more, this.#what);
    this.#held += more;
  }

  release(): void {
    this.#budget?.release(this.#held);
    this.#held = 0;
  }
}
