import type { PortcullisError } from '../errors/index.js';
import { operationError, type Operation } from './operation.js';

/**
 * A process-wide budget of bytes buffered from registry responses at once. Each read is capped
 * (manifests and signatures at 4 MiB), but nothing bounded how many reads buffer at the same
 * time: many concurrent reviews naming large manifests on a hostile registry could hold
 * gigabytes. A read reserves its bytes before buffering them (the descriptor's size, the
 * declared Content-Length, else as they arrive) and gives them back when it is done. Over the
 * budget a read waits its turn for at most `maxWaitMs` and its operation's deadline, then fails
 * with ERR_DOWNLOAD_BUDGET — which denies, whatever the failure policy: memory pressure must
 * never make the webhook admit.
 *
 * No one registry may starve the others: the reads of one registry (the operation's `registry`)
 * hold at most `maxBytesPerRegistry` (half the budget by default), so a hostile registry that
 * declares 4 MiB manifests and drips them leaves the rest to every other registry. Waiting is
 * first come, first served within a registry; a read held back only by its own registry's share
 * never holds back the reads of other registries queued behind it (no head-of-line blocking).
 */

export const DEFAULT_BODY_BUDGET_BYTES = 64 * 1024 * 1024;
export const DEFAULT_BODY_BUDGET_WAIT_MS = 2000;

/** Half the budget, but room for one 4 MiB read (the cap of a manifest or signature) when the budget has it. */
export function defaultBytesPerRegistry(maxBytes: number): number {
  return Math.min(maxBytes, Math.max(Math.floor(maxBytes / 2), 4 * 1024 * 1024));
}

/** Registry names as keys: `Evil.example.` and `evil.example` are one registry. */
function registryKey(registry: string): string {
  return registry.toLowerCase().replace(/\.(?=(:\d+)?$)/, '');
}

interface Waiter {
  readonly registry: string;
  readonly bytes: number;
  readonly grant: () => void;
}

export interface BodyBudgetOptions {
  /** Bytes buffered at once across every read (default 64 MiB). */
  readonly maxBytes?: number;
  /** Bytes the reads of one registry may buffer at once (default half of `maxBytes`, at least 4 MiB). */
  readonly maxBytesPerRegistry?: number;
  /** How long a read waits for room before failing (default 2 s; never past its deadline). */
  readonly maxWaitMs?: number;
}

export class BodyBudget {
  readonly maxBytes: number;
  readonly maxBytesPerRegistry: number;
  readonly #maxWaitMs: number;
  #used = 0;
  /** Bytes reserved per registry (a registry with none has no entry: hostile names do not pile up). */
  readonly #byRegistry = new Map<string, number>();
  readonly #waiting: Waiter[] = [];
  #highWater = 0;

  constructor(options: BodyBudgetOptions = {}) {
    this.maxBytes = options.maxBytes ?? DEFAULT_BODY_BUDGET_BYTES;
    this.maxBytesPerRegistry = Math.min(
      this.maxBytes,
      options.maxBytesPerRegistry ?? defaultBytesPerRegistry(this.maxBytes),
    );
    this.#maxWaitMs = options.maxWaitMs ?? DEFAULT_BODY_BUDGET_WAIT_MS;
  }

  /** Bytes reserved now. */
  get used(): number {
    return this.#used;
  }

  /** Bytes reserved now by the reads of `registry`. */
  usedBy(registry: string): number {
    return this.#byRegistry.get(registryKey(registry)) ?? 0;
  }

  /** The most bytes ever reserved at once (for tests and diagnostics). */
  get highWater(): number {
    return this.#highWater;
  }

  /** Reads waiting for room. */
  get waiting(): number {
    return this.#waiting.length;
  }

  /**
   * Reserves `bytes` for `op` (counted against `op.registry`'s share), waiting for room; resolves
   * once reserved. Give them back with `release(bytes, op)`.
   */
  async reserve(op: Operation, bytes: number, what: string): Promise<void> {
    if (bytes <= 0) return;
    if (bytes > this.maxBytes) throw this.#error(op, what, `needs ${bytes} bytes, more than the whole budget`);
    if (bytes > this.maxBytesPerRegistry)
      throw this.#error(op, what, `needs ${bytes} bytes, more than one registry's share`);
    const registry = registryKey(op.registry);
    let granted = false;
    let settle: ((error?: PortcullisError) => void) | undefined;
    const waiter: Waiter = {
      registry,
      bytes,
      grant: () => {
        granted = true;
        settle?.();
      },
    };
    // Queued, then let in at once if the reads before it allow (the same rule as for the waiting).
    this.#waiting.push(waiter);
    this.#pump();
    if (granted) return;
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
      settle = done;
      const fail = (): void =>
        done(this.#error(op, what, `no room for ${bytes} bytes within ${this.#maxWaitMs} ms`, registry));
      const onAbort = (): void => fail();
      const timer = setTimeout(fail, this.#maxWaitMs);
      op.signal.addEventListener('abort', onAbort, { once: true });
      if (op.signal.aborted) fail();
    });
  }

  /** Gives back `bytes` reserved for `op` and lets the waiters that now fit in. */
  release(bytes: number, op: Pick<Operation, 'registry'>): void {
    if (bytes <= 0) return;
    this.#used = Math.max(0, this.#used - bytes);
    const registry = registryKey(op.registry);
    const left = (this.#byRegistry.get(registry) ?? 0) - bytes;
    if (left > 0) this.#byRegistry.set(registry, left);
    else this.#byRegistry.delete(registry);
    this.#pump();
  }

  /**
   * Lets in every waiter that may go, in order. A waiter over its registry's share is passed
   * over (and its registry's later waiters with it: FIFO within a registry); the first waiter
   * within its share but over the whole budget stops the pass, so a large read is not starved
   * by smaller ones of other registries arriving after it.
   */
  #pump(): void {
    const blocked = new Set<string>();
    for (let i = 0; i < this.#waiting.length;) {
      const next = this.#waiting[i] as Waiter;
      if (blocked.has(next.registry)) {
        i++;
        continue;
      }
      if ((this.#byRegistry.get(next.registry) ?? 0) + next.bytes > this.maxBytesPerRegistry) {
        blocked.add(next.registry);
        i++;
        continue;
      }
      if (this.#used + next.bytes > this.maxBytes) break;
      this.#take(next.registry, next.bytes);
      this.#waiting.splice(i, 1);
      next.grant();
    }
  }

  #take(registry: string, bytes: number): void {
    this.#used += bytes;
    this.#byRegistry.set(registry, (this.#byRegistry.get(registry) ?? 0) + bytes);
    if (this.#used > this.#highWater) this.#highWater = this.#used;
  }

  #error(op: Operation, what: string, detail: string, registry?: string): PortcullisError {
    const share =
      registry === undefined
        ? ''
        : `; ${this.#byRegistry.get(registry) ?? 0} of the ${this.maxBytesPerRegistry} bytes one registry may hold are ${op.registry}'s (registries.maxBufferedBytesPerRegistry)`;
    return operationError(
      op,
      'ERR_DOWNLOAD_BUDGET',
      `${what}: ${detail}: ${this.#used} of the ${this.maxBytes} bytes buffered from registries at once are in use (registries.maxBufferedBytes)${share}`,
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
    this.#budget?.release(this.#held, this.#op);
    this.#held = 0;
  }
}
