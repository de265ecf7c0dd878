import type { Logger } from 'pino';
import type { ServerResponse } from 'node:http';
import type { RecordLogger } from '../log/index.js';
import type { ImageVerifier } from '../executor/index.js';
import type { Endpoint, Metrics } from '../metrics/index.js';

/** What every route plugin receives in its options (no global decorators for domain services). */
export interface RouteDeps {
  readonly verifier: ImageVerifier;
  readonly metrics: Metrics;
  /** The configured webhook timeout, ms. */
  readonly webhookTimeoutMs: number;
  /** Subtracted from the timeout to leave time for the answer to travel back, ms. */
  readonly marginMs: number;
  /** The clock (epoch ms); injected so tests can control it. */
  readonly now: () => number;
  /** Everything but the per-review line goes here (the root logger: no per-request child is made). */
  readonly log: Logger;
  /** The one line per review or Gatekeeper request: the fast JSON-lines writer in production, else `log`. */
  readonly reviewLog: RecordLogger;
}

/** The Content-Type of every JSON answer. */
export const JSON_TYPE = 'application/json; charset=utf-8';

/** Answers with a JSON body straight on Node's response (the paths that do not go through fastify). */
export function writeJson(res: ServerResponse, status: number, body: string | object): void {
  const payload = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'content-type': JSON_TYPE, 'content-length': Buffer.byteLength(payload) }).end(payload);
}

/** Fastify's own errors (body too large, bad JSON, wrong content type) as Portcullis codes. */
export function classifyError(error: unknown): { status: number; code: string; message: string } {
  const e = error as { statusCode?: unknown; code?: unknown; message?: unknown };
  const message = typeof e?.message === 'string' ? e.message : String(error);
  if (e?.code === 'ERR_ADMISSION_INVALID' || e?.code === 'ERR_UNSUPPORTED_KIND')
    return { status: 400, code: e.code, message };
  if (e?.code === 'FST_ERR_CTP_BODY_TOO_LARGE' || e?.statusCode === 413) {
    return { status: 413, code: 'ERR_BODY_TOO_LARGE', message: `request body is larger than the limit: ${message}` };
  }
  if (e?.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' || e?.statusCode === 415) {
    return { status: 415, code: 'ERR_ADMISSION_INVALID', message: 'Content-Type must be application/json' };
  }
  if (typeof e?.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    return { status: e.statusCode, code: 'ERR_ADMISSION_INVALID', message: `malformed request body: ${message}` };
  }
  return { status: 500, code: 'ERR_INTERNAL', message: `internal error: ${message}` };
}

/** Tracks one request for the in-flight gauge and the latency histogram. */
export function track(
  deps: Pick<RouteDeps, 'metrics' | 'now'>,
  endpoint: Endpoint,
): { readonly started: number; end(): number } {
  const started = deps.now();
  const done = deps.metrics.startRequest(endpoint);
  let ms: number | undefined;
  return {
    started,
    end(): number {
      if (ms !== undefined) return ms;
      done();
      ms = deps.now() - started;
      deps.metrics.observeRequestDuration(endpoint, ms / 1000);
      return ms;
    },
  };
}
