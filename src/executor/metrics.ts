import type { Metrics } from '../metrics/index.js';
import type { RequestInfo } from '../registry/index.js';
import type { ArtifactVerification } from '../verify/index.js';

/**
 * The registry client's `onRequest` hook, counting every round trip (token requests, retries
 * and redirect hops included) by host and status; a request that got no answer counts as `error`.
 * The client takes the hook at construction: `new RegistryClient({ onRequest: observeRegistryRequests(metrics) })`.
 */
export function observeRegistryRequests(metrics: Metrics): (info: RequestInfo) => void {
  return (info) =>
    metrics.observeRegistryRequest(info.host, info.status === 0 ? 'error' : info.status, info.durationMs / 1000);
}

/** One count per check of every signature a (fresh, not cached) verification evaluated. */
export function observeVerification(metrics: Metrics | undefined, result: ArtifactVerification): void {
  if (metrics === undefined) return;
  for (const signature of result.signatures) {
    for (const check of signature.checks) metrics.observeVerification(check.check, check.status);
  }
}
