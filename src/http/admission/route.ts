import type { ServerResponse } from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { writeJson } from '../context.js';
import type { WriteBatch } from '../write-batch.js';
import type { ReviewAnswer, ReviewEndpoint } from './handler.js';

/**
 * `POST <path>` for a review endpoint. Every AdmissionReview comes this way, so the route keeps
 * fastify's per-request work small: the body is parsed with plain `JSON.parse` (the review
 * readers take own properties only, so a `__proto__` key is an ordinary, ignored key), and the
 * reply is hijacked: the answer goes into the app's WriteBatch and is written straight on
 * Node's response at the end of the event-loop turn that decided it (write-batch.ts says why),
 * without fastify's reply pipeline. Body problems (413, 415, not JSON) answer through the
 * route's error handler as Portcullis errors, logged and counted.
 */

interface Query {
  readonly timeout?: string;
}

/** An answer waiting in the turn's batch. */
export interface PendingAnswer {
  readonly res: ServerResponse;
  readonly answer: ReviewAnswer;
}

/** Writes an answer that waited in the batch, unless the client went away meanwhile. */
export function writeAnswer({ res, answer }: PendingAnswer): void {
  if (res.headersSent || res.destroyed) return;
  try {
    writeJson(res, answer.status, answer.payload);
  } catch {
    res.destroy(); // a socket that cannot take the answer: nothing else to do for it
  }
}

export interface ReviewRouteOptions {
  readonly review: ReviewEndpoint;
  /** The app's one batch of answers (validate and mutate share it). */
  readonly batch: WriteBatch<PendingAnswer>;
}

export function registerReviewRoute(app: FastifyInstance, path: string, { review, batch }: ReviewRouteOptions): void {
  const later = (reply: FastifyReply, answer: ReviewAnswer): void => {
    reply.hijack();
    batch.add({ res: reply.raw, answer });
  };
  app.setErrorHandler((error, request, reply) => later(reply, review.failed(error, request.body)));
  // JSON only (anything else is 415, text/plain included).
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    try {
      done(null, JSON.parse(body as string));
    } catch (error) {
      done(Object.assign(error as Error, { statusCode: 400 }), undefined);
    }
  });
  app.post(path, (request: FastifyRequest<{ Querystring: Query }>, reply: FastifyReply): void => {
    const timeout = typeof request.query.timeout === 'string' ? request.query.timeout : undefined;
    let answer: ReviewAnswer | Promise<ReviewAnswer>;
    try {
      answer = review.handle(request.body, timeout);
    } catch (error) {
      later(reply, review.failed(error, request.body));
      return;
    }
    if (!(answer instanceof Promise)) later(reply, answer);
    else
      answer.then(
        (a) => later(reply, a),
        (error: unknown) => later(reply, review.failed(error, request.body)),
      );
  });
}
