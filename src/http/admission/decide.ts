import type { ImageDecision, ReviewDecisions, ReviewRequest } from '../../executor/index.js';
import type { Endpoint } from '../../metrics/index.js';
import type { Mutable } from '../../util/index.js';
import type { RouteDeps } from '../context.js';
import { denialLine, explainHint, hasWarningLines, limitWarnings, subjectOf, warningLines } from '../messages.js';
import { type ContainerImage, type Extraction, extractImages } from './extract.js';
import type { AdmissionRequestView } from './review.js';

/** The decision for one AdmissionReview, before it is rendered as a response. */
export interface ReviewOutcome {
  readonly extraction: Extraction;
  /** One entry per checked container. */
  readonly outcomes: readonly { readonly container: ContainerImage; readonly decision: ImageDecision }[];
  readonly allowed: boolean;
  /** One actionable line per denied container. */
  readonly denials: readonly string[];
  /** Already limited for the API server (256 runes each, 4 KiB in total). */
  readonly warnings: readonly string[];
  /** The `portcullis explain` command for the first denied image (the denial message's last line). */
  readonly explain?: string;
}

/** What a review needs checked: an outcome already (nothing to check), or the images and their context. */
export type ReviewPlan =
  | { readonly outcome: ReviewOutcome }
  | {
      readonly extraction: Extraction & { readonly handled: true };
      readonly review: ReviewRequest;
    };

/**
 * Extracts what to check. Throws ERR_ADMISSION_INVALID like `extractImages`; what is not checked is allowed with a
 * warning.
 */
export function planReview(request: AdmissionRequestView, deadline: number, budgetMs: number): ReviewPlan {
  const extraction = extractImages(request);
  if (!extraction.handled) {
    return {
      outcome: {
        extraction,
        outcomes: [],
        allowed: true,
        denials: [],
        warnings: extraction.warn ? limitWarnings([`${extraction.reason} [ERR_UNSUPPORTED_KIND]`]) : [],
      },
    };
  }
  // Empty image strings too: only the verifier knows whether a policy covers the namespace (where
  // none does, nothing is inspected and an empty image is no reason to deny).
  const images: string[] = [];
  for (const c of extraction.toCheck) images.push(c.image);
  const review: Mutable<ReviewRequest> = {
    images,
    namespace: extraction.namespace,
    deadline,
    budgetMs,
    dryRun: request.dryRun,
    pullSecretNames: extraction.pullSecretNames,
  };
  if (extraction.serviceAccountName !== undefined) review.serviceAccountName = extraction.serviceAccountName;
  return { extraction, review };
}

/** An outcome now (nothing to check, or every decision cached), or the checks still to run. */
export type ReviewStep = { readonly outcome: ReviewOutcome } | { readonly later: () => Promise<ReviewOutcome> };

/** The verifier's decisions: at once (a warm review), or `later` (by the review's deadline: the verifier keeps it). */
export function decideReviewNow(plan: ReviewPlan, deps: RouteDeps, endpoint: Endpoint): ReviewStep {
  if ('outcome' in plan) return plan;
  const decided = deps.verifier.decide(plan.review);
  if (!(decided instanceof Promise)) return { outcome: outcomeOf(plan.extraction, decided, deps, endpoint) };
  return { later: async () => outcomeOf(plan.extraction, await decided, deps, endpoint) };
}

function outcomeOf(
  extraction: Extraction & { readonly handled: true },
  decisions: ReviewDecisions,
  deps: RouteDeps,
  endpoint: Endpoint,
): ReviewOutcome {
  for (const d of decisions.values())
    deps.metrics.observeImageDecision(endpoint, d.error !== undefined ? 'error' : d.allowed ? 'allowed' : 'denied');
  const outcomes = extraction.toCheck.map((container) => ({
    container,
    decision: decisions.get(container.image) as ImageDecision,
  }));
  const denials: string[] = [];
  const warnings: string[] = [];
  let explain: string | undefined;
  for (const { container, decision } of outcomes) {
    // Most decisions are clean allows: no words to build for them.
    if (decision.allowed && !hasWarningLines(decision)) continue;
    const subject = subjectOf(container.image, container.name, container.list === 'volumes' ? 'volume' : 'container');
    if (!decision.allowed) {
      denials.push(denialLine(subject, decision));
      explain ??= explainHint(extraction.namespace, container.image);
    }
    warnings.push(...warningLines(subject, decision));
  }
  return {
    extraction,
    outcomes,
    allowed: denials.length === 0,
    denials,
    ...(explain === undefined ? {} : { explain }),
    warnings: warnings.length === 0 ? warnings : limitWarnings(warnings),
  };
}
