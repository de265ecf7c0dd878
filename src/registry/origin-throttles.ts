import type { PortcullisError } from '../errors/index.js';
import { abortError, operationError, type Operation } from './operation.js';
import { OriginThrottle, ThrottledTooLong, type ThrottleState } from './throttle.js';

/** The transport's throttles, one per origin that throttles (or has requests in flight through its throttle). */
export class OriginThrottles {
  readonly #throttles = new Map<string, OriginThrottle>();

  get(origin: string): OriginThrottle {
    let throttle = this.#throttles.get(origin);
    if (throttle === undefined) {
      throttle = new OriginThrottle();
      this.#throttles.set(origin, throttle);
    }
    return throttle;
  }

  /** Drops an idle origin's throttle: only origins that throttle, or are in use, are kept. */
  forget(origin: string, throttle: OriginThrottle): void {
    if (throttle.idle && this.#throttles.get(origin) === throttle) this.#throttles.delete(origin);
  }

  state(origin: string): ThrottleState | undefined {
    return this.#throttles.get(origin)?.state;
  }
}

/** The deadline passed (or would) while the request waited for its turn at a registry that throttles. */
export function throttledTooLong(op: Operation, url: URL, throttle: OriginThrottle, cause: unknown): PortcullisError {
  if (op.callerSignal?.aborted === true) return abortError(op, cause);
  if (cause instanceof ThrottledTooLong) {
    return operationError(
      op,
      'ERR_REGISTRY_RATE_LIMITED',
      `${url.host} answered 429 Too Many Requests and asked to wait ${(cause.pausedForMs / 1000).toFixed(1)} s more (Retry-After), past the ${op.timeoutMs} ms deadline`,
      cause,
    );
  }
  const { active, limit, waiting } = throttle.state;
  return operationError(
    op,
    'ERR_REGISTRY_RATE_LIMITED',
    `${url.host} throttles requests (429 Too Many Requests): still waiting for a turn (${active} in flight, at most ${limit ?? active} at once, ${waiting} more waiting) when the ${op.timeoutMs} ms deadline passed`,
    cause,
  );
}
