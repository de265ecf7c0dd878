import { PortcullisError } from '../errors/index.js';
import type { Mutable } from '../util/index.js';
import type { FailurePolicy, ImageCheckRequest, ImageDecision, ReviewDecisions, ReviewRequest } from './types.js';
import { undecidedDecision } from './verdicts.js';

/** The decision of one image: at once when the caches answer, else a promise. */
export type ImageWalk = (request: ImageCheckRequest) => ImageDecision | Promise<ImageDecision>;

/**
 * Decides the distinct images of one review, each by one walk: the decisions come back at once
 * when every walk answered synchronously (a warm review: no promise, no timer), otherwise as a
 * promise that settles by the review's deadline. An image still undecided at the deadline, and
 * a walk that throws, get the failure policy's decision (`undecidedDecision`): the answer never
 * waits past the deadline and never throws. The images of one review share one `review` token
 * (their limits on registries, images and requests in flight; see review-scope.ts).
 */
export function decideReview(
  review: ReviewRequest,
  walk: ImageWalk,
  failurePolicy: FailurePolicy,
  now: () => number,
): ReviewDecisions | Promise<ReviewDecisions> {
  const results = new Map<string, ImageDecision>();
  let pending: [string, Promise<ImageDecision>][] | undefined;
  // The images already walked: a pod spec may list tens of thousands (linear, never quadratic).
  const walked = new Set<string>();
  const token = review.review ?? {};
  for (const image of review.images) {
    if (walked.has(image)) continue;
    walked.add(image);
    let decision: ImageDecision | Promise<ImageDecision>;
    try {
      decision = walk(requestFor(image, review, token));
    } catch (error) {
      decision = failed(image, error, failurePolicy);
    }
    if (decision instanceof Promise) (pending ??= []).push([image, decision]);
    else results.set(image, decision);
  }
  return pending === undefined ? results : settle(results, pending, review, failurePolicy, now);
}

function requestFor(image: string, review: ReviewRequest, token: object): ImageCheckRequest {
  const request: Mutable<ImageCheckRequest> = {
    image,
    namespace: review.namespace,
    deadline: review.deadline,
    review: token,
  };
  if (review.dryRun === true) request.dryRun = true;
  if (review.explain === true) request.explain = true;
  if (review.credentials !== undefined) request.credentials = review.credentials;
  if (review.pullSecretNames !== undefined && review.pullSecretNames.length > 0)
    request.pullSecretNames = review.pullSecretNames;
  if (review.serviceAccountName !== undefined) request.serviceAccountName = review.serviceAccountName;
  return request;
}

/** The walks still running, each raced against the review's deadline (one timer for the review). */
async function settle(
  results: Map<string, ImageDecision>,
  pending: readonly (readonly [string, Promise<ImageDecision>])[],
  review: ReviewRequest,
  failurePolicy: FailurePolicy,
  now: () => number,
): Promise<ReviewDecisions> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<'expired'>((resolve) => {
    timer = setTimeout(() => resolve('expired'), Math.max(0, review.deadline - now()));
  });
  const budgetMs = review.budgetMs ?? review.deadline - now();
  try {
    await Promise.all(
      pending.map(async ([image, walking]) => {
        let decision: ImageDecision;
        try {
          const outcome = await Promise.race([walking, expired]);
          decision =
            outcome === 'expired'
              ? undecidedDecision(
                  { image, verdicts: [], warnings: [] },
                  new PortcullisError(
                    'ERR_DEADLINE_EXCEEDED',
                    `no decision within the ${Math.round(budgetMs)} ms request deadline`,
                  ),
                  failurePolicy,
                )
              : outcome;
        } catch (error) {
          decision = failed(image, error, failurePolicy);
        }
        results.set(image, decision);
      }),
    );
  } finally {
    clearTimeout(timer);
  }
  return results;
}

/** A walk that threw: a bug, not a verdict; still an answer, under the failure policy. */
function failed(image: string, error: unknown, failurePolicy: FailurePolicy): ImageDecision {
  const message = error instanceof Error ? error.message : String(error);
  return undecidedDecision(
    { image, verdicts: [], warnings: [] },
    { code: 'ERR_INTERNAL', message: `the verifier failed unexpectedly: ${message}` },
    failurePolicy,
  );
}
