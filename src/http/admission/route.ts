import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { JSON_TYPE } from '../context.js';
import type { ReviewAnswer, ReviewEndpoint } from './handler.js';

/** `POST <path>` for a review endpoint: fastify parses the body, the endpoint answers. */

interface Query {
  readonly timeout?: string;
}

function send(reply: FastifyReply, answer: ReviewAnswer): void {
  void reply.code(answer.status).type(JSON_TYPE).send(answer.payload);
}

export function registerReviewRoute(app: FastifyInstance, path: string, review: ReviewEndpoint): void {
  // Body-parser failures (413, bad JSON, wrong content type) get a Portcullis error body, counted.
  app.setErrorHandler((error, request, reply) => send(reply, review.failed(error, request.body)));
  app.post(path, (request: FastifyRequest<{ Querystring: Query }>, reply: FastifyReply): Promise<void> | undefined => {
    const timeout = typeof request.query.timeout === 'string' ? request.query.timeout : undefined;
    const answer = review.handle(request.body, timeout);
    if (!(answer instanceof Promise)) {
      send(reply, answer);
      return undefined;
    }
    return answer.then((a) => send(reply, a));
  });
}
