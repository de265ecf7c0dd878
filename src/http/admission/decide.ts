import type { ImageDecision } from '../../executor/types.js';
import type { Endpoint } from '../../metrics/index.js';
import { checkImages } from '../check.js';
import type { RouteDeps } from '../context.js';
import { denialLine, hasWarningLines, limitWarnings, subjectOf, warningLines } from '../messages.js';
import type { ContainerImage, Extraction } from './extract.js';
import { extractImages } from './extract.js';
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
}

const NO_IMAGE: Omit<ImageDecision, 'image'> = {
  allowed: false,
  verdicts: [],
  warnings: [],
  reason: 'the container has no image, so nothing can be verified',
};

export async function decideReview(request: AdmissionRequestView, deps: RouteDeps, deadline: number, endpoint: Endpoint): Promise<ReviewOutcome> {
  const extraction = extractImages(request);
  if (!extraction.handled) {
    return { extraction, outcomes: [], allowed: true, denials: [], warnings: extraction.warn ? limitWarnings([`${extraction.reason} [ERR_UNSUPPORTED_KIND]`]) : [] };
  }
  const decisions = await checkImages(
    deps.verifier,
    extraction.toCheck.filter((c) => c.image !== '').map((c) => c.image),
    {
      namespace: extraction.namespace,
      deadline,
      dryRun: request.dryRun,
      pullSecretNames: extraction.pullSecretNames,
      ...(extraction.serviceAccountName === undefined ? {} : { serviceAccountName: extraction.serviceAccountName }),
      failurePolicy: deps.failurePolicy,
      now: deps.now,
    },
  );
  for (const d of decisions.values()) deps.metrics.observeImageDecision(endpoint, d.error !== undefined ? 'error' : d.allowed ? 'allowed' : 'denied');
  const outcomes = extraction.toCheck.map((container) => ({
    container,
    decision: container.image === '' ? { image: '', ...NO_IMAGE } : (decisions.get(container.image) as ImageDecision),
  }));
  const denials: string[] = [];
  const warnings: string[] = [];
  for (const { container, decision } of outcomes) {
    // Most decisions are clean allows: no words to build for them.
    if (decision.allowed && !hasWarningLines(decision)) continue;
    const subject = subjectOf(container.image, container.name);
    if (!decision.allowed) denials.push(denialLine(subject, decision));
    warnings.push(...warningLines(subject, decision));
  }
  return { extraction, outcomes, allowed: denials.length === 0, denials, warnings: warnings.length === 0 ? warnings : limitWarnings(warnings) };
}
