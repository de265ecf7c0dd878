/**
 * A token bucket, as registries rate-limit: `rate` tokens a second, at most `size` saved up.
 * A request takes one token or is refused. Time is passed in (ms), so it is testable.
 */
export class TokenBucket {
  readonly #rate: number;
  readonly #size: number;
  #tokens: number;
  #at: number | undefined;

  constructor(ratePerSecond: number, size: number) {
    this.#rate = ratePerSecond;
    this.#size = Math.max(1, size);
    this.#tokens = this.#size;
  }

  /** Takes a token at time `now` (ms); false when none is left. */
  take(now: number): boolean {
    if (this.#at !== undefined)
      this.#tokens = Math.min(this.#size, this.#tokens + ((now - this.#at) * this.#rate) / 1000);
    this.#at = now;
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }
}
