import { isPortcullisError } from '../../errors/index.js';
import type { Endpoint } from '../../metrics/index.js';
import type { Mutable } from '../../util/index.js';
import { type RouteDeps, classifyError, track } from '../context.js';
import { budgetMs } from '../deadline.js';
import { denialMessage } from '../messages.js';
import { type ReviewOutcome, type ReviewStep, decideReviewNow, planReview } from './decide.js';
import {
  type AdmissionRequestView,
  type AdmissionResponse,
  parseAdmissionReview,
  peekUid,
  reviewResponse,
} from './review.js';
import { reviewLine } from './review-line.js';

/**
 * The AdmissionReview endpoint without its framework: a parsed body (and the API server's
 * `?timeout=`) in, an HTTP status and JSON payload out — decided, logged and counted. Its fastify
 * route (route.ts) is the only way in.
 *
 * Warm reviews (every image has a cached decision) are answered synchronously: no promise, no
 * timer. Only reviews with something to check return a promise.
 */
export type ResponseExtender = (outcome: ReviewOutcome) => Partial<Pick<AdmissionResponse, 'patch' | 'patchType'>>;

export interface ReviewAnswer {
  readonly status: number;
  /** JSON text. */
  readonly payload: string;
}

export type ReviewHandler = (body: unknown, timeout: string | undefined) => ReviewAnswer | Promise<ReviewAnswer>;

export interface ReviewEndpoint {
  readonly endpoint: Endpoint;
  readonly handle: ReviewHandler;
  /**
   * The answer to a body that could not be read (too large, not JSON, wrong type), logged and counted. Unexpected
   * errors are 500.
   */
  readonly failed: (error: unknown, body?: unknown) => ReviewAnswer;
}

type Tracker = ReturnType<typeof track>;

export function reviewEndpoint(endpoint: Endpoint, deps: RouteDeps, extend?: ResponseExtender): ReviewEndpoint {
  function answer(review: AdmissionRequestView, outcome: ReviewOutcome, t: Tracker): ReviewAnswer {
    const response: Mutable<AdmissionResponse> = { uid: review.uid, allowed: outcome.allowed };
    if (!outcome.allowed)
      response.status = { code: 403, reason: 'Forbidden', message: denialMessage(outcome.denials, outcome.explain) };
    if (outcome.warnings.length > 0) response.warnings = outcome.warnings;
    if (outcome.allowed && extend !== undefined) Object.assign(response, extend(outcome));
    const latencyMs = t.end();
    deps.metrics.observeAdmission({
      endpoint,
      result: outcome.allowed ? 'allowed' : 'denied',
      kind: review.kind.kind,
      operation: review.operation,
    });
    if (deps.reviewLog.isLevelEnabled('info')) {
      deps.reviewLog.writeFields(
        'info',
        reviewLine(endpoint, review, outcome, { latencyMs, patched: response.patch !== undefined }),
        'admission review',
      );
    }
    return { status: 200, payload: JSON.stringify(reviewResponse(response)) };
  }

  function failed(error: unknown, body?: unknown): ReviewAnswer {
    const { status, code, message } = classifyError(error);
    deps.metrics.observeAdmission({ endpoint, result: 'error', kind: 'unknown', operation: 'unknown' });
    const log = { endpoint, status, code, uid: peekUid(body) };
    if (status >= 500) deps.log.error({ ...log, err: error }, 'admission review failed');
    else deps.log.warn({ ...log, reason: message }, 'admission review rejected');
    return { status, payload: JSON.stringify({ code, message }) };
  }

  function handle(body: unknown, timeout: string | undefined): ReviewAnswer | Promise<ReviewAnswer> {
    const t = track(deps, endpoint);
    const budget = budgetMs(deps.webhookTimeoutMs, deps.marginMs, timeout);
    const deadline = t.started + budget;
    let review: AdmissionRequestView;
    let step: ReviewStep;
    try {
      review = parseAdmissionReview(body);
      step = decideReviewNow(planReview(review, deadline, budget), deps, endpoint);
    } catch (error) {
      t.end();
      // A body Kubernetes would never send: 400. (What it does not handle is allowed with a warning.)
      if (isPortcullisError(error) && error.code === 'ERR_ADMISSION_INVALID') return failed(error, body);
      throw error;
    }
    if ('outcome' in step) return answer(review, step.outcome, t);
    return step.later().then(
      (outcome) => answer(review, outcome, t),
      (error: unknown) => {
        t.end(); // the caller answers 500; the in-flight gauge must not keep counting this request
        throw error;
      },
    );
  }

  return { endpoint, handle, failed };
}
