import type { ImageCheckRequest, ImageDecision, ImageVerifier } from '../executor/types.js';

/**
 * Runs the verifier on the distinct images of one request concurrently, each bounded by the
 * request deadline. The verifier is expected to honour the deadline itself; this is the
 * backstop, so that a stuck check can never make the API server time out the webhook.
 */

export type FailurePolicy = 'fail' | 'ignore';

export interface CheckContext {
  readonly namespace: string;
  /** Absolute deadline, epoch ms. */
  readonly deadline: number;
  readonly dryRun: boolean;
  readonly pullSecretNames: readonly string[];
  readonly serviceAccountName?: string;
  /** What to do when no decision is reached in time or the verifier breaks its contract. */
  readonly failurePolicy: FailurePolicy;
  readonly now: () => number;
}

/** A decision for an image the verifier could not decide in time (or threw for). */
export function undecided(image: string, code: string, message: string, failurePolicy: FailurePolicy): ImageDecision {
  return {
    image,
    allowed: failurePolicy === 'ignore',
    verdicts: [],
    warnings: [],
    error: { code, message, failurePolicyApplied: failurePolicy },
    reason: `${message} [${code}]`,
  };
}

export async function checkImages(verifier: ImageVerifier, images: readonly string[], ctx: CheckContext): Promise<Map<string, ImageDecision>> {
  const distinct = [...new Set(images)];
  const results = new Map<string, ImageDecision>();
  if (distinct.length === 0) return results;
  let timer: NodeJS.Timeout | undefined;
  const remaining = Math.max(0, ctx.deadline - ctx.now());
  const expired = new Promise<'expired'>((resolve) => {
    timer = setTimeout(() => resolve('expired'), remaining);
  });
  try {
    await Promise.all(
      distinct.map(async (image) => {
        const request: ImageCheckRequest = {
          image,
          namespace: ctx.namespace,
          deadline: ctx.deadline,
          ...(ctx.dryRun ? { dryRun: true } : {}),
          ...(ctx.pullSecretNames.length > 0 ? { pullSecretNames: ctx.pullSecretNames } : {}),
          ...(ctx.serviceAccountName === undefined ? {} : { serviceAccountName: ctx.serviceAccountName }),
        };
        let decision: ImageDecision;
        try {
          const outcome = await Promise.race([verifier.check(request), expired]);
          decision =
            outcome === 'expired'
              ? undecided(image, 'ERR_DEADLINE_EXCEEDED', `no decision within the ${remaining} ms request deadline`, ctx.failurePolicy)
              : outcome;
        } catch (error) {
          // The verifier promises not to throw for per-image problems: this is a bug, not a verdict.
          const message = error instanceof Error ? error.message : String(error);
          decision = undecided(image, 'ERR_INTERNAL', `the verifier failed unexpectedly: ${message}`, ctx.failurePolicy);
        }
        results.set(image, decision);
      }),
    );
  } finally {
    clearTimeout(timer);
  }
  return results;
}
