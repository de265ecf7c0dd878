import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ReviewAnswer, ReviewEndpoint } from './admission/handler.js';
import { writeJson } from './context.js';
import { WriteBatch } from './write-batch.js';

/**
 * The webhook's hot path: `POST /validate` (and `/mutate`) served straight from the HTTPS
 * server's request event, before fastify's router. Every AdmissionReview of the cluster comes
 * this way, and fastify's per-request machinery (request and reply objects, hooks, content-type
 * parser, reply pipeline) costs about as much as deciding a warm review; everything else
 * (probes, metrics, Gatekeeper) stays on fastify.
 *
 * The answers are the fastify route's: both call the same `ReviewEndpoint`, and this module
 * only reads the body the way fastify would — `application/json` only (415), at most
 * `bodyLimit` bytes (413), JSON (400) — and writes the status and payload the endpoint returns.
 * The body is parsed with plain `JSON.parse`: the review readers take own properties only
 * (`own()`), so a `__proto__` key is an ordinary, ignored key. Answers are written in batches,
 * at the end of the event-loop turn that decided them (`WriteBatch`).
 */

export type DirectDispatch = (req: IncomingMessage, res: ServerResponse) => boolean;

class BodyError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
  ) {
    super(message);
  }
}

/** An answer waiting in the turn's batch. */
interface Pending {
  readonly res: ServerResponse;
  readonly answer: ReviewAnswer;
}

function writeNow({ res, answer }: Pending): void {
  // The client may have gone while the answer waited.
  if (res.headersSent || res.destroyed) return;
  try {
    writeJson(res, answer.status, answer.payload);
  } catch {
    res.destroy(); // a socket that cannot take the answer: nothing else to do for it
  }
}

/** `application/json`, with or without parameters (`; charset=utf-8`), in any case. */
function isJson(contentType: string | undefined): boolean {
  if (contentType === undefined) return false;
  const semicolon = contentType.indexOf(';');
  return (semicolon === -1 ? contentType : contentType.slice(0, semicolon)).trim().toLowerCase() === 'application/json';
}

/** The `timeout` query parameter (the API server's `?timeout=10s`). */
function timeoutOf(url: string, queryAt: number): string | undefined {
  if (queryAt === -1) return undefined;
  let at = url.indexOf('timeout=', queryAt + 1);
  // Only a whole parameter name counts (not `xtimeout=`).
  while (at !== -1 && url[at - 1] !== '?' && url[at - 1] !== '&') at = url.indexOf('timeout=', at + 1);
  if (at === -1) return undefined;
  const end = url.indexOf('&', at);
  const value = url.slice(at + 'timeout='.length, end === -1 ? url.length : end);
  if (!value.includes('%')) return value;
  try {
    return decodeURIComponent(value);
  } catch {
    return undefined; // malformed escape: as if absent (the configured timeout applies)
  }
}

export function directDispatch(routes: ReadonlyMap<string, ReviewEndpoint>, bodyLimit: number): DirectDispatch {
  // Every answer goes out with the others decided in the same event-loop turn (see WriteBatch).
  const batch = new WriteBatch<Pending>(writeNow);
  const write = (res: ServerResponse, answer: ReviewAnswer): void => batch.add({ res, answer });
  return (req, res) => {
    if (req.method !== 'POST') return false;
    const url = req.url ?? '';
    const queryAt = url.indexOf('?');
    const review = routes.get(queryAt === -1 ? url : url.slice(0, queryAt));
    if (review === undefined) return false;

    const fail = (error: unknown): void => write(res, review.failed(error));
    if (!isJson(req.headers['content-type'])) {
      fail(new BodyError(415, 'Content-Type must be application/json'));
      req.resume();
      return true;
    }
    const declared = req.headers['content-length'];
    if (declared !== undefined && Number(declared) > bodyLimit) {
      fail(new BodyError(413, `Request body is too large (${declared} bytes; the limit is ${bodyLimit})`));
      req.resume();
      return true;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (chunk: Buffer) => {
      if (tooLarge) return;
      size += chunk.length;
      if (size > bodyLimit) {
        tooLarge = true;
        chunks.length = 0;
        fail(new BodyError(413, `Request body is too large (more than ${bodyLimit} bytes)`));
        return;
      }
      chunks.push(chunk);
    });
    req.on('error', () => res.destroy()); // the client went away mid-body: nobody to answer
    req.on('end', () => {
      if (tooLarge) return;
      let body: unknown;
      try {
        body = JSON.parse((chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks)).toString('utf8'));
      } catch (error) {
        fail(new BodyError(400, (error as Error).message));
        return;
      }
      let answer: ReviewAnswer | Promise<ReviewAnswer>;
      try {
        answer = review.handle(body, timeoutOf(url, queryAt));
      } catch (error) {
        write(res, review.failed(error, body));
        return;
      }
      if (answer instanceof Promise)
        answer.then(
          (a) => write(res, a),
          (error: unknown) => write(res, review.failed(error, body)),
        );
      else write(res, answer);
    });
    return true;
  };
}
