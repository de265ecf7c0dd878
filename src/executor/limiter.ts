import { PortcullisError } from '../errors/index.js';
import type { Budget } from './budget.js';

/**
 * At most `max` registry operations in flight per registry host; the rest wait in FIFO order.
 * A waiter whose deadline passes while still queued gives up (ERR_DEADLINE_EXCEEDED naming the
 * queue), so a burst against a slow registry turns into fast, explained failures instead of
 * requests that start after nobody is waiting for them. 429 Retry-After handling lives in the
 * registry client, inside each operation's timeout.
 */

interface Waiter {
  readonly start: () => void;
  timer: NodeJS.Timeout | undefined;
}

interface HostState {
  active: number;
  readonly queue: Waiter[];
}

export class HostLimiter {
  readonly #max: number;
  readonly #hosts = new Map<string, HostState>();
  readonly #queued: (host: string, what: string, active: number, max: number) => string;

  /** `queued` words the give-up message (default: the registry host's queue). */
  constructor(maxPerHost: number, queued?: (host: string, what: string, active: number, max: number) => string) {
    this.#max = maxPerHost;
    this.#queued =
      queued ??
      ((host, what, active, max) =>
        `registry ${host}: ${what}: still queued behind ${active} in-flight requests to this registry (limit ${max})`);
  }

  /** In-flight and queued operations of a host (for tests and diagnostics). */
  stats(host: string): { active: number; queued: number } {
    const s = this.#hosts.get(host);
    return { active: s?.active ?? 0, queued: s?.queue.length ?? 0 };
  }

  /** Runs `work` when a slot for `host` is free and the budget still allows it. */
  async run<T>(host: string, budget: Budget, what: string, work: () => Promise<T>): Promise<T> {
    let state = this.#hosts.get(host);
    if (state === undefined) {
      state = { active: 0, queue: [] };
      this.#hosts.set(host, state);
    }
    if (state.active >= this.#max) await this.#wait(host, state, budget, what);
    else state.active++;
    try {
      return await work();
    } finally {
      this.#release(host, state);
    }
  }

  #wait(host: string, state: HostState, budget: Budget, what: string): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        start: () => {
          clearTimeout(waiter.timer);
          resolve();
        },
        timer: undefined,
      };
      const left = budget.remaining();
      const give = (): void => {
        const i = state.queue.indexOf(waiter);
        if (i >= 0) state.queue.splice(i, 1);
        reject(
          new PortcullisError(
            'ERR_DEADLINE_EXCEEDED',
            `${this.#queued(host, what, state.active, this.#max)} when the ${budget.totalMs} ms deadline passed`,
          ),
        );
      };
      if (left <= 0) {
        give();
        return;
      }
      // Slightly before the deadline, so the caller learns it was the queue that ran out of time.
      waiter.timer = setTimeout(give, Math.max(0, Math.floor(left) - 2));
      state.queue.push(waiter);
    });
  }

  #release(host: string, state: HostState): void {
    const next = state.queue.shift();
    if (next !== undefined) {
      next.start(); // the slot passes straight to the next waiter
      return;
    }
    state.active--;
    if (state.active === 0 && state.queue.length === 0) this.#hosts.delete(host);
  }
}
