import { PortcullisError } from '../errors/index.js';

/**
 * How much later than the deadline `race` gives up, so the work's own deadline error wins (ms; well inside the
 * executor's margin).
 */
const RACE_GRACE_MS = 15;

/**
 * The time one check may spend. Every check has an absolute deadline (epoch ms, from the
 * request); `marginMs` of it is kept back to build and send the answer. Registry calls get what
 * is left as their own timeout, and a call is not started when less than `minCallMs` is left.
 * Waiting on work shared with other checks (single flight) is bounded by this check's own
 * deadline through `race`.
 */
export class Budget {
  readonly deadline: number;
  readonly #now: () => number;
  readonly #marginMs: number;
  readonly #minCallMs: number;
  readonly #started: number;

  constructor(deadline: number, now: () => number, marginMs: number, minCallMs: number) {
    this.deadline = deadline;
    this.#now = now;
    this.#marginMs = marginMs;
    this.#minCallMs = minCallMs;
    this.#started = now();
  }

  /** Milliseconds left before the decision must be made (deadline minus margin). */
  remaining(): number {
    return this.deadline - this.#marginMs - this.#now();
  }

  /** The budget the check started with, for messages. */
  get totalMs(): number {
    return Math.max(0, Math.round(this.deadline - this.#marginMs - this.#started));
  }

  /** The timeout for a registry call about to start; throws ERR_DEADLINE_EXCEEDED when the deadline is near. */
  callTimeout(what: string): number {
    const left = this.remaining();
    if (left < this.#minCallMs) throw this.exceeded(what);
    return Math.floor(left);
  }

  /** Whether there is still time to start a registry call. */
  canStartCall(): boolean {
    return this.remaining() >= this.#minCallMs;
  }

  exceeded(what: string): PortcullisError {
    return new PortcullisError(
      'ERR_DEADLINE_EXCEEDED',
      `the ${this.totalMs} ms deadline of the check passed (or was too near to start) while ${what}`,
    );
  }

  /** `promise`, or ERR_DEADLINE_EXCEEDED when this check's deadline comes first. */
  async race<T>(promise: Promise<T>, what: string): Promise<T> {
    // Even with no time left, work that is already done (a cache hit behind an async call)
    // settles before a 0 ms timer fires: the deadline only stops work that would have to wait.
    const left = Math.max(0, this.remaining());
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_, reject) => {
      // A registry call's own timeout is the same deadline and fails with a better message (the
      // stage and host that were slow): give it a moment to arrive first.
      timer = setTimeout(() => reject(this.exceeded(what)), Math.ceil(left) + RACE_GRACE_MS);
    });
    try {
      return await Promise.race([promise, expired]);
    } finally {
      clearTimeout(timer);
      promise.catch(() => undefined);
    }
  }
}
