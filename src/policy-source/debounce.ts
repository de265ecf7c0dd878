/**
 * When a policy source reads again after changes: `debounceMs` of quiet after the last change,
 * but never more than `maxDelayMs` after the first, so a stream of changes (a `kubectl apply` of
 * many files, a busy cluster) cannot postpone a rebuild for ever. The directory and the
 * Kubernetes sources share it and its defaults (100 ms, 1 s): a reload is seen within about a
 * tenth of a second of the last change, and a burst of events costs one rebuild.
 */

export const DEFAULT_DEBOUNCE_MS = 100;
export const DEFAULT_MAX_DELAY_MS = 1000;

export interface DebounceOptions {
  readonly debounceMs?: number;
  readonly maxDelayMs?: number;
}

export class Debounce {
  readonly #run: () => void;
  readonly #debounceMs: number;
  readonly #maxDelayMs: number;
  #timer: NodeJS.Timeout | undefined;
  #firstPendingAt: number | undefined;

  constructor(run: () => void, options: DebounceOptions = {}) {
    this.#run = run;
    this.#debounceMs = options.debounceMs ?? DEFAULT_DEBOUNCE_MS;
    this.#maxDelayMs = Math.max(options.maxDelayMs ?? DEFAULT_MAX_DELAY_MS, this.#debounceMs);
  }

  /** A change: run after the quiet time (or the longest delay since the first pending change). */
  schedule(): void {
    const now = Date.now();
    this.#firstPendingAt ??= now;
    const wait = Math.max(0, Math.min(this.#debounceMs, this.#firstPendingAt + this.#maxDelayMs - now));
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.flush(), wait);
    this.#timer.unref();
  }

  /** Whether a run is scheduled. */
  get pending(): boolean {
    return this.#timer !== undefined;
  }

  /** Runs now what was pending (or runs now anyway). */
  flush(): void {
    this.cancel();
    this.#run();
  }

  /** Forgets what was pending. */
  cancel(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#firstPendingAt = undefined;
  }
}
