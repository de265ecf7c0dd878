import type { FastifyInstance } from 'fastify';
import type { ReviewOutcome } from './admission/decide.js';
import { type ReviewEndpoint, reviewEndpoint } from './admission/handler.js';
import { registerReviewRoute, type ReviewRouteOptions } from './admission/route.js';
import type { RouteDeps } from './context.js';
import { isVerified } from './messages.js';

/**
 * `POST /mutate` (off by default): the mutating webhook that pins each verified tag to its
 * digest. Only an image every applicable policy verified is pinned; a denied image is denied
 * exactly as /validate would, and an unverified one (no policy covers the namespace, a warn-mode
 * failure, only `skip` statements apply, the failure policy let it through) is left as written.
 * The pinned reference is the canonical one the image was verified under (src/reference).
 */

export interface JsonPatchOperation {
  readonly op: 'replace';
  /** JSON Pointer (RFC 6901) to the container's `image`. */
  readonly path: string;
  readonly value: string;
}

/** The RFC 6902 operations that pin the verified images of an allowed review. */
export function pinPatch(outcome: ReviewOutcome): JsonPatchOperation[] {
  const ops: JsonPatchOperation[] = [];
  for (const { container, decision } of outcome.outcomes) {
    // Already pinned by digest: rewriting it to the normalised name would only add churn.
    if (container.image.includes('@')) continue;
    if (!isVerified(decision) || decision.pinned === undefined || decision.pinned === container.image) continue;
    ops.push({ op: 'replace', path: container.pointer, value: decision.pinned });
  }
  return ops;
}

/** The mutating webhook's endpoint: /validate's answer plus the patch. */
export function mutateEndpoint(deps: RouteDeps): ReviewEndpoint {
  return reviewEndpoint('mutate', deps, (outcome) => {
    const ops = pinPatch(outcome);
    return ops.length === 0
      ? {}
      : { patchType: 'JSONPatch', patch: Buffer.from(JSON.stringify(ops)).toString('base64') };
  });
}

export async function mutateRoutes(app: FastifyInstance, options: ReviewRouteOptions): Promise<void> {
  registerReviewRoute(app, '/mutate', options);
}
