import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isPortcullisError } from '../../errors/index.js';
import type { Endpoint } from '../../metrics/index.js';
import type { RouteDeps } from '../context.js';
import { classifyError, sendError, track } from '../context.js';
import { budgetMs } from '../deadline.js';
import { denialMessage } from '../messages.js';
import type { ReviewOutcome } from './decide.js';
import { decideReview } from './decide.js';
import type { AdmissionResponse } from './review.js';
import { parseAdmissionReview, peekUid, reviewResponse } from './review.js';

/**
 * The shared AdmissionReview handler behind `POST /validate` and `POST /mutate`: parse, decide,
 * render, log one line, count. `extend` adds the mutating webhook's patch to an allowed answer.
 */
export type ResponseExtender = (outcome: ReviewOutcome) => Partial<Pick<AdmissionResponse, 'patch' | 'patchType'>>;

interface Query {
  readonly timeout?: string;
}

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
  app.post(path, async (request: FastifyRequest<{ Querystring: Query }>, reply: FastifyReply) => {
    const t = track(deps, endpoint);
    const timeout = typeof request.query.timeout === 'string' ? request.query.timeout : undefined;
    const deadline = t.started + budgetMs(deps.webhookTimeoutMs, deps.marginMs, timeout);
    try {
      const review = parseAdmissionReview(request.body);
      const outcome = await decideReview(review, deps, deadline, endpoint);
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
      deps.log.info(
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
      return reply.type('application/json').send(reviewResponse(response));
    } catch (error) {
      t.end();
      if (!isPortcullisError(error) || (error.code !== 'ERR_ADMISSION_INVALID' && error.code !== 'ERR_UNSUPPORTED_KIND')) throw error;
      deps.metrics.observeAdmission({ endpoint, result: 'error', kind: 'unknown', operation: 'unknown' });
      deps.log.warn({ endpoint, uid: peekUid(request.body), status: 400, code: error.code, reason: error.message }, 'admission review rejected');
      return sendError(reply, 400, { code: error.code, message: error.message });
    }
  });
}
