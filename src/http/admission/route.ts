import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isPortcullisError } from '../../errors/index.js';
import type { Endpoint } from '../../metrics/index.js';
import type { RouteDeps } from '../context.js';
import { classifyError, sendError, track } from '../context.js';
import { budgetMs } from '../deadline.js';
import { denialMessage } from '../messages.js';
import type { ReviewOutcome, ReviewStep } from './decide.js';
import { decideReviewNow, planReview } from './decide.js';
import type { AdmissionRequestView, AdmissionResponse } from './review.js';
import { parseAdmissionReview, peekUid, reviewResponse } from './review.js';

/**
 * The shared AdmissionReview handler behind `POST /validate` and `POST /mutate`: parse, decide,
 * render, log one line, count. `extend` adds the mutating webhook's patch to an allowed answer.
 *
 * Warm reviews (every image has a cached decision) are answered synchronously: no promise, no
 * timer, the response written as a string. Only reviews with something to check go async.
 */
export type ResponseExtender = (outcome: ReviewOutcome) => Partial<Pick<AdmissionResponse, 'patch' | 'patchType'>>;

interface Query {
  readonly timeout?: string;
}

const JSON_TYPE = 'application/json; charset=utf-8';

/** Answers body-parser failures (413, bad JSON) with a Portcullis error body, and counts them. */
export function installReviewErrorHandler(app: FastifyInstance, deps: RouteDeps, endpoint: Endpoint): void {
  app.setErrorHandler((error, request, reply) => {
    const { status, code, message } = classifyError(error);
    deps.metrics.observeAdmission({ endpoint, result: 'error', kind: 'unknown', operation: 'unknown' });
    const log = { endpoint, status, code, uid: peekUid(request.body) };
    if (status >= 500) deps.log.error({ ...log, err: error }, 'admission review failed');
    else deps.log.warn({ ...log, reason: message }, 'admission review rejected');
    return sendError(reply, status, { code, message });
  });
}

export function registerReviewRoute(app: FastifyInstance, path: string, endpoint: Endpoint, deps: RouteDeps, extend?: ResponseExtender): void {
  /** Renders, logs and counts the outcome, and sends it. */
  function answer(reply: FastifyReply, review: AdmissionRequestView, outcome: ReviewOutcome, t: ReturnType<typeof track>): void {
    const response: AdmissionResponse = {
      uid: review.uid,
      allowed: outcome.allowed,
      ...(outcome.allowed ? {} : { status: { code: 403, reason: 'Forbidden', message: denialMessage(outcome.denials) } }),
      ...(outcome.warnings.length > 0 ? { warnings: outcome.warnings } : {}),
      ...(outcome.allowed && extend !== undefined ? extend(outcome) : {}),
    };
    const latencyMs = t.end();
    deps.metrics.observeAdmission({ endpoint, result: outcome.allowed ? 'allowed' : 'denied', kind: review.kind.kind, operation: review.operation });
    const ex = outcome.extraction;
    deps.reviewLog.info(
      {
        endpoint,
        uid: review.uid,
        namespace: ex.handled ? ex.namespace : review.namespace,
        kind: review.kind.kind,
        ...(review.subResource === '' ? {} : { subResource: review.subResource }),
        name: review.name,
        operation: review.operation,
        dryRun: review.dryRun,
        images: outcome.outcomes.map((o) => ({
          container: o.container.name,
          image: o.container.image,
          digest: o.decision.digest,
          allowed: o.decision.allowed,
          ...(o.decision.error === undefined ? {} : { error: o.decision.error.code }),
        })),
        ...(ex.handled ? {} : { skipped: ex.reason }),
        decision: outcome.allowed ? 'allowed' : 'denied',
        ...(outcome.denials.length > 0 ? { denials: outcome.denials } : {}),
        warnings: outcome.warnings.length,
        ...(response.patch === undefined ? {} : { patched: true }),
        latencyMs,
      },
      'admission review',
    );
    void reply.type(JSON_TYPE).send(JSON.stringify(reviewResponse(response)));
  }

  /** A body Kubernetes would never send (or a kind the configuration should not send): 400. Anything else is rethrown (500). */
  function reject(reply: FastifyReply, request: FastifyRequest, error: unknown, t: ReturnType<typeof track>): void {
    t.end();
    if (!isPortcullisError(error) || (error.code !== 'ERR_ADMISSION_INVALID' && error.code !== 'ERR_UNSUPPORTED_KIND')) throw error;
    deps.metrics.observeAdmission({ endpoint, result: 'error', kind: 'unknown', operation: 'unknown' });
    deps.log.warn({ endpoint, uid: peekUid(request.body), status: 400, code: error.code, reason: error.message }, 'admission review rejected');
    void sendError(reply, 400, { code: error.code, message: error.message });
  }

  app.post(path, (request: FastifyRequest<{ Querystring: Query }>, reply: FastifyReply): Promise<void> | undefined => {
    const t = track(deps, endpoint);
    const timeout = typeof request.query.timeout === 'string' ? request.query.timeout : undefined;
    const deadline = t.started + budgetMs(deps.webhookTimeoutMs, deps.marginMs, timeout);
    let review: AdmissionRequestView;
    let step: ReviewStep;
    try {
      review = parseAdmissionReview(request.body);
      step = decideReviewNow(planReview(review, deps, deadline), deps, endpoint);
    } catch (error) {
      reject(reply, request, error, t);
      return undefined;
    }
    if ('outcome' in step) {
      answer(reply, review, step.outcome, t);
      return undefined;
    }
    return step.later().then((outcome) => answer(reply, review, outcome, t));
  });
}
