import type { FailurePolicy, ImageCheckRequest, ImageDecision, ImageVerifier } from '../executor/index.js';
import type { Mutable } from '../util/index.js';

/**
 * Runs the verifier on the distinct images of one request concurrently, each bounded by the
 * request deadline. The verifier is expected to honour the deadline itself; this is the
 * backstop, so that a stuck check can never make the API server time out the webhook.
 * Decisions the verifier has at once (`decided`: cached verdicts) are taken without a timer;
 * only the images that need `check` race the deadline.
 */

export interface CheckContext {
  readonly namespace: string;
  /** Absolute deadline, epoch ms. */
  readonly deadline: number;
  /** The request's whole time budget, ms (deadline minus arrival): what a timeout message names. */
  readonly budgetMs: number;
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

function requestFor(image: string, ctx: CheckContext): ImageCheckRequest {
  const request: Mutable<ImageCheckRequest> = { image, namespace: ctx.namespace, deadline: ctx.deadline };
  if (ctx.dryRun) request.dryRun = true;
  if (ctx.pullSecretNames.length > 0) request.pullSecretNames = ctx.pullSecretNames;
  if (ctx.serviceAccountName !== undefined) request.serviceAccountName = ctx.serviceAccountName;
  return request;
}

/** The decisions the verifier had at once, and the images still to check (undefined when none). */
export interface AtOnce {
  readonly results: Map<string, ImageDecision>;
  readonly waiting: readonly { readonly image: string; readonly request: Mutable<ImageCheckRequest> }[] | undefined;
}

/** Asks `decided` for each distinct image: no promise, no timer (the warm path of a review). */
export function decideAtOnce(verifier: ImageVerifier, images: readonly string[], ctx: CheckContext): AtOnce {
  const results = new Map<string, ImageDecision>();
  let waiting: { image: string; request: Mutable<ImageCheckRequest> }[] | undefined;
  for (const image of images) {
    if (results.has(image) || waiting?.some((w) => w.image === image) === true) continue;
    const request = requestFor(image, ctx);
    let decision: ImageDecision | undefined;
    if (verifier.decided !== undefined) {
      try {
        decision = verifier.decided(request);
      } catch {
        decision = undefined; // `check` gets its chance (and its error handling)
      }
    }
    if (decision !== undefined) results.set(image, decision);
    else (waiting ??= []).push({ image, request });
  }
  return { results, waiting };
}

export function checkImages(
  verifier: ImageVerifier,
  images: readonly string[],
  ctx: CheckContext,
): Promise<Map<string, ImageDecision>> {
  return checkRemaining(verifier, decideAtOnce(verifier, images, ctx), ctx);
}

/** Checks the images `decideAtOnce` left waiting, racing the request deadline. */
export async function checkRemaining(
  verifier: ImageVerifier,
  atOnce: AtOnce,
  ctx: CheckContext,
): Promise<Map<string, ImageDecision>> {
  const { results, waiting } = atOnce;
  if (waiting === undefined) return results;
  const remaining = Math.max(0, ctx.deadline - ctx.now());
  const pending = waiting;
  // The images of one request share one review's limits (registries, images, requests in
  // flight): a token made here, off the warm path, where something is left to fetch.
  const review = {};
  for (const w of pending) (w.request as Mutable<ImageCheckRequest>).review = review;
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<'expired'>((resolve) => {
    timer = setTimeout(() => resolve('expired'), remaining);
  });
  try {
    await Promise.all(
      pending.map(async ({ image, request }) => {
        let decision: ImageDecision;
        try {
          const outcome = await Promise.race([verifier.check(request), expired]);
          decision =
            outcome === 'expired'
              ? undecided(
                  image,
                  'ERR_DEADLINE_EXCEEDED',
                  `no decision within the ${Math.round(ctx.budgetMs)} ms request deadline`,
                  ctx.failurePolicy,
                )
              : outcome;
        } catch (error) {
          // The verifier promises not to throw for per-image problems: this is a bug, not a verdict.
          const message = error instanceof Error ? error.message : String(error);
          decision = undecided(
            image,
            'ERR_INTERNAL',
            `the verifier failed unexpectedly: ${message}`,
            ctx.failurePolicy,
          );
        }
        results.set(image, decision);
      }),
    );
  } finally {
    clearTimeout(timer);
  }
  return results;
}
