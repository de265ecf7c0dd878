import { PortcullisError } from '../errors/index.js';
import type { Budget } from './budget.js';

/**
 * At most `max` registry operations in flight per registry host; the rest wait. Waiters are
 * served fairly: each owner (a review) has its own queue, served in turn, so a pod of a hundred
 * new images does not make the one image of the next review wait behind all of its requests;
 * within an owner, in order. A waiter whose deadline passes while still queued gives up
 * (ERR_DEADLINE_EXCEEDED naming the queue), so a burst against a slow registry turns into
 * fast, explained failures instead of requests that start after nobody is waiting for them.
 * 429 Retry-After handling and pacing live in the registry client's transport, inside each
 * operation's timeout.
 */

interface Waiter {
  readonly start: () => void;
  timer: NodeJS.Timeout | undefined;
}

/** The owner of waiters that name none: they share one queue. */
const NOBODY = {};

interface HostState {
  active: number;
  /** Queues by owner, in the order they are served next (insertion order; an owner served moves to the end). */
  readonly queues: Map<object, Waiter[]>;
  queued: number;
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
    return { active: s?.active ?? 0, queued: s?.queued ?? 0 };
  }

  /**
   * Runs `work` when a slot for `host` is free and the budget still allows it; `owner` (a
   * review) shares the waiting turns with other owners.
   */
  async run<T>(host: string, budget: Budget, what: string, work: () => Promise<T>, owner?: object): Promise<T> {
    let state = this.#hosts.get(host);
    if (state === undefined) {
      state = { active: 0, queues: new Map(), queued: 0 };
      this.#hosts.set(host, state);
    }
    if (state.active >= this.#max) await this.#wait(host, state, budget, what, owner ?? NOBODY);
    else state.active++;
    try {
      return await work();
    } finally {
      this.#release(host, state);
    }
  }

  #wait(host: string, state: HostState, budget: Budget, what: string, owner: object): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        start: () => {
          clearTimeout(waiter.timer);
          resolve();
        },
        timer: undefined,
      };
      const give = (): void => {
        const queue = state.queues.get(owner);
        const i = queue?.indexOf(waiter) ?? -1;
        if (queue !== undefined && i >= 0) {
          queue.splice(i, 1);
          state.queued--;
          if (queue.length === 0) state.queues.delete(owner);
        }
        reject(
          new PortcullisError(
            'ERR_DEADLINE_EXCEEDED',
            `${this.#queued(host, what, state.active, this.#max)} when the ${budget.totalMs} ms deadline passed`,
          ),
        );
      };
      const left = budget.remaining();
      if (left <= 0) {
        give();
        return;
      }
      // Slightly before the deadline, so the caller learns it was the queue that ran out of time.
      waiter.timer = setTimeout(give, Math.max(0, Math.floor(left) - 2));
      const queue = state.queues.get(owner);
      if (queue === undefined) state.queues.set(owner, [waiter]);
      else queue.push(waiter);
      state.queued++;
    });
  }

  #release(host: string, state: HostState): void {
    // The slot passes straight to the next owner's first waiter; that owner goes to the back.
    const next = state.queues.entries().next();
    if (next.done !== true) {
      const [owner, queue] = next.value;
      const waiter = queue.shift() as Waiter;
      state.queued--;
      state.queues.delete(owner);
      if (queue.length > 0) state.queues.set(owner, queue);
      waiter.start();
      return;
    }
    state.active--;
    if (state.active === 0 && state.queued === 0) this.#hosts.delete(host);
  }
}
