import { PortcullisError } from '../errors/index.js';
import type { Budget } from './budget.js';
import { HostLimiter } from './limiter.js';

/**
 * One review's share of the registries. Every image of a pod is checked concurrently, and a pod
 * spec is written by whoever may create pods: without a share, one pod naming hundreds of images
 * on hundreds of hosts would have the webhook contact all of them at once, crowding out every
 * other review. So a review may make the webhook contact at most `maxHosts` registries and fetch
 * at most `maxImages` images (cache misses only: what is cached costs nothing), with at most
 * `maxConcurrent` of its registry requests in flight at once (beside the per-registry limit).
 * An image past a limit is denied with a code naming the limit; it is not a failure to reach a
 * verdict, so no failure policy lets it through.
 */

export interface ReviewLimits {
  /** Registry hosts one review may make the webhook contact. */
  readonly maxHosts: number;
  /** Distinct images one review may make the webhook fetch. */
  readonly maxImages: number;
  /** Registry requests of one review in flight at once. */
  readonly maxConcurrent: number;
}

/**
 * Codes of errors that belong to one review only: a check joining another review's shared work must not inherit them.
 */
export const REVIEW_LIMIT_CODES: ReadonlySet<string> = new Set([
  'ERR_REVIEW_TOO_MANY_REGISTRIES',
  'ERR_REVIEW_TOO_MANY_IMAGES',
]);

const SLOT = 'review';

export class ReviewScope {
  readonly #limits: ReviewLimits;
  readonly #hosts = new Set<string>();
  readonly #images = new Set<string>();
  readonly #inFlight: HostLimiter;

  constructor(limits: ReviewLimits) {
    this.#limits = limits;
    this.#inFlight = new HostLimiter(
      limits.maxConcurrent,
      (_slot, what, active, max) =>
        `${what}: still queued behind ${active} registry requests of this review in flight (registries.maxConcurrentPerReview is ${max})`,
    );
  }

  /**
   * Records that `image` makes the webhook contact `host`; throws (ERR_REVIEW_TOO_MANY_*) when
   * that takes the review past a limit. The host and image already counted never are.
   */
  admit(host: string, image: string): void {
    if (!this.#hosts.has(host)) {
      if (this.#hosts.size >= this.#limits.maxHosts) {
        throw new PortcullisError(
          'ERR_REVIEW_TOO_MANY_REGISTRIES',
          `this review would make Portcullis contact more than ${this.#limits.maxHosts} registries (registries.maxHostsPerReview); ${host} was not contacted`,
        );
      }
      this.#hosts.add(host);
    }
    if (!this.#images.has(image)) {
      if (this.#images.size >= this.#limits.maxImages) {
        throw new PortcullisError(
          'ERR_REVIEW_TOO_MANY_IMAGES',
          `this review would make Portcullis fetch more than ${this.#limits.maxImages} images (registries.maxImagesPerReview); this one was not fetched`,
        );
      }
      this.#images.add(image);
    }
  }

  /** Runs one registry request of the review within its concurrency share, giving up at the budget's deadline. */
  run<T>(budget: Budget, what: string, work: () => Promise<T>): Promise<T> {
    return this.#inFlight.run(SLOT, budget, what, work);
  }
}
