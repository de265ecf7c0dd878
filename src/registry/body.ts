import { createHash, type Hash } from 'node:crypto';
import type { PortcullisError, ErrorCode } from '../errors/index.js';
import type { Descriptor } from '../oci/index.js';
import { parseDigest } from '../util/index.js';
import { BodyReservation, type BodyBudget } from './body-budget.js';
import { abortError, operationError, printable, type Operation } from './operation.js';
import { discard, header, type HttpResponse } from './transport.js';

/**
 * Reading response bodies: every read is capped (stop at cap + 1 bytes, before buffering
 * more), content addressed by a digest is hashed while it streams and checked at the end.
 */

/** Error bodies are only read for their message. */
const ERROR_BODY_MAX_BYTES = 64 * 1024;

/** Stops reading a body and drops its connection (no unhandled 'error' event). */
export function abandon(response: HttpResponse): void {
  response.body.on('error', () => undefined);
  response.body.destroy();
}

function readFailure(op: Operation, error: unknown): PortcullisError {
  if (op.signal.aborted) return abortError(op, error, { stage: 'body', host: op.registry });
  return operationError(
    op,
    'ERR_REGISTRY_UNREACHABLE',
    `connection lost while reading the response: ${printable(error instanceof Error ? error.message : String(error))}`,
    error,
  );
}

function declaredLength(response: HttpResponse): number | undefined {
  const value = header(response.headers, 'content-length');
  if (value === undefined || !/^\d+$/.test(value)) return undefined;
  return Number(value);
}

/**
 * Reads a whole body, failing with ERR_SIZE_LIMIT past `maxBytes`. With a `budget`, the bytes
 * buffered are reserved from it first (the declared length at once, else as they arrive) and
 * given back once the body is read or abandoned (ERR_DOWNLOAD_BUDGET when there is no room).
 */
export async function readCapped(
  op: Operation,
  response: HttpResponse,
  maxBytes: number,
  what: string,
  budget?: BodyBudget,
): Promise<Uint8Array> {
  const declared = declaredLength(response);
  if (declared !== undefined && declared > maxBytes) {
    abandon(response);
    throw operationError(op, 'ERR_SIZE_LIMIT', `${what} is ${declared} bytes, over the ${maxBytes}-byte cap`);
  }
  const reservation = new BodyReservation(budget, op, what, maxBytes);
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    if (declared !== undefined) await reservation.ensure(declared, true);
    for await (const chunk of response.body as AsyncIterable<Buffer>) {
      total += chunk.length;
      if (total > maxBytes) {
        abandon(response);
        throw operationError(op, 'ERR_SIZE_LIMIT', `${what} is over the ${maxBytes}-byte cap`);
      }
      await reservation.ensure(total);
      chunks.push(chunk);
    }
    return new Uint8Array(Buffer.concat(chunks, total));
  } catch (error) {
    const code = (error as PortcullisError).code;
    if (code === 'ERR_SIZE_LIMIT') throw error;
    abandon(response);
    if (code === 'ERR_DOWNLOAD_BUDGET') throw error;
    throw readFailure(op, error);
  } finally {
    reservation.release();
  }
}

/**
 * Checks content against its descriptor while it streams: never more than the descriptor's
 * size (nor the cap), digest compared at the end.
 */
export class DigestVerifier {
  readonly #op: Operation;
  readonly #descriptor: Descriptor;
  readonly #hash: Hash;
  readonly #hex: string;
  #total = 0;

  constructor(op: Operation, descriptor: Descriptor) {
    const parsed = parseDigest(descriptor.digest);
    if (parsed === undefined)
      throw operationError(op, 'ERR_DIGEST_INVALID', `"${printable(descriptor.digest)}" is not a supported digest`);
    this.#op = op;
    this.#descriptor = descriptor;
    this.#hash = createHash(parsed.algorithm);
    this.#hex = parsed.hex;
  }

  update(chunk: Uint8Array): void {
    this.#total += chunk.length;
    if (this.#total > this.#descriptor.size) {
      throw this.#mismatch(`more than the ${this.#descriptor.size} bytes its descriptor says`);
    }
    this.#hash.update(chunk);
  }

  finish(): void {
    if (this.#total !== this.#descriptor.size)
      throw this.#mismatch(`${this.#total} bytes, its descriptor says ${this.#descriptor.size}`);
    const actual = this.#hash.digest('hex');
    if (actual !== this.#hex)
      throw this.#mismatch(`content hashes to ${this.#descriptor.digest.split(':')[0]}:${actual}`);
  }

  #mismatch(detail: string): PortcullisError {
    return operationError(
      this.#op,
      'ERR_DIGEST_MISMATCH',
      `content of ${this.#descriptor.digest} does not match its digest: ${detail}`,
    );
  }
}

/** Size check before any request: content over the cap is never fetched. */
export function checkSize(op: Operation, descriptor: Descriptor, maxBytes: number, what: string): void {
  if (descriptor.size > maxBytes)
    throw operationError(
      op,
      'ERR_SIZE_LIMIT',
      `${what} ${descriptor.digest} is ${descriptor.size} bytes, over the ${maxBytes}-byte cap`,
    );
}

/** Reads a body addressed by `descriptor`, verified and capped (its size reserved from `budget` first). */
export async function readVerified(
  op: Operation,
  response: HttpResponse,
  descriptor: Descriptor,
  maxBytes: number,
  what: string,
  budget?: BodyBudget,
): Promise<Uint8Array> {
  checkSize(op, descriptor, maxBytes, what);
  const verifier = new DigestVerifier(op, descriptor);
  const declared = declaredLength(response);
  if (declared !== undefined && declared !== descriptor.size) {
    abandon(response);
    throw operationError(
      op,
      'ERR_DIGEST_MISMATCH',
      `${what} ${descriptor.digest}: the registry sends ${declared} bytes, its descriptor says ${descriptor.size}`,
    );
  }
  const reservation = new BodyReservation(budget, op, what, maxBytes);
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    // The descriptor says how much is coming (more is a mismatch): reserved at once.
    await reservation.ensure(descriptor.size, true);
    for await (const chunk of response.body as AsyncIterable<Buffer>) {
      verifier.update(chunk);
      total += chunk.length;
      chunks.push(chunk);
    }
    verifier.finish();
    return new Uint8Array(Buffer.concat(chunks, total));
  } catch (error) {
    abandon(response);
    const code = (error as PortcullisError).code;
    if (code === 'ERR_DIGEST_MISMATCH' || code === 'ERR_DOWNLOAD_BUDGET') throw error;
    throw readFailure(op, error);
  } finally {
    reservation.release();
  }
}

/** Streams a body addressed by `descriptor`; the last step throws if the digest does not match. */
export async function* streamVerified(
  op: Operation,
  response: HttpResponse,
  descriptor: Descriptor,
): AsyncGenerator<Uint8Array, void, undefined> {
  const verifier = new DigestVerifier(op, descriptor);
  let finished = false;
  try {
    for await (const chunk of response.body as AsyncIterable<Buffer>) {
      verifier.update(chunk);
      yield new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length);
    }
    finished = true;
  } catch (error) {
    if ((error as PortcullisError).code === 'ERR_DIGEST_MISMATCH') throw error;
    throw readFailure(op, error);
  } finally {
    if (!finished) abandon(response);
  }
  verifier.finish();
}

interface DistributionError {
  readonly code?: string;
  readonly message?: string;
}

/** The distribution-spec error body (`{"errors":[{code, message, detail}]}`), if any. */
export async function readErrorBody(response: HttpResponse): Promise<DistributionError[]> {
  let text: string;
  try {
    const chunks: Buffer[] = [];
    let total = 0;
    for await (const chunk of response.body as AsyncIterable<Buffer>) {
      total += chunk.length;
      if (total > ERROR_BODY_MAX_BYTES) break;
      chunks.push(chunk);
    }
    abandon(response);
    text = Buffer.concat(chunks).toString('utf8');
  } catch {
    return [];
  }
  try {
    const doc = JSON.parse(text) as { errors?: unknown };
    if (!Array.isArray(doc.errors)) return [];
    return doc.errors
      .filter((e): e is Record<string, unknown> => typeof e === 'object' && e !== null)
      .map((e) => ({
        ...(typeof e.code === 'string' ? { code: e.code } : {}),
        ...(typeof e.message === 'string' ? { message: e.message } : {}),
      }));
  } catch {
    const line = printable(text, 120);
    return line === '' ? [] : [{ message: line }];
  }
}

/** ` (CODE: message; …)`, or empty. */
export function describeErrors(errors: readonly DistributionError[]): string {
  if (errors.length === 0) return '';
  return ` (${errors.map((e) => printable([e.code, e.message].filter((p) => p !== undefined && p !== '').join(': '), 200)).join('; ')})`;
}

/** Maps an unexpected status to the error a person can act on, with the registry's message. */
export async function statusError(op: Operation, response: HttpResponse, notFound?: string): Promise<PortcullisError> {
  const errors =
    response.status >= 300 && response.status < 400 ? (await discard(response), []) : await readErrorBody(response);
  const detail = describeErrors(errors);
  const status = response.status;
  const url = `${response.url.pathname}${response.url.search}`;
  let code: ErrorCode;
  let message: string;
  if (status === 401) {
    code = 'ERR_REGISTRY_UNAUTHORIZED';
    message = `authentication required or credentials rejected (401)${detail}`;
  } else if (status === 403) {
    code = 'ERR_REGISTRY_DENIED';
    message = `access denied (403)${detail}`;
  } else if (status === 404) {
    code = 'ERR_REGISTRY_NOT_FOUND';
    message = `${notFound ?? 'not found'} (404)${detail}`;
  } else if (status === 429) {
    code = 'ERR_REGISTRY_RATE_LIMITED';
    message = `rate limited (429)${response.gaveUp === undefined ? '' : `: ${response.gaveUp}`}${detail}`;
  } else if (status >= 500) {
    code = 'ERR_REGISTRY_UNAVAILABLE';
    message = `server error ${status}${response.gaveUp === undefined ? '' : `: ${response.gaveUp}`}${detail}`;
  } else if (status === 400 && errors.some((e) => e.code === 'DIGEST_INVALID')) {
    code = 'ERR_DIGEST_MISMATCH';
    message = `the registry rejected the content: it does not match its digest${detail}`;
  } else if (status === 400 && errors.some((e) => e.code === 'SIZE_INVALID')) {
    code = 'ERR_DIGEST_MISMATCH';
    message = `the registry rejected the content: its size does not match the descriptor${detail}`;
  } else {
    code = 'ERR_REGISTRY_RESPONSE';
    message = `unexpected status ${status} for ${printable(url, 200)}${detail}`;
  }
  return operationError(op, code, message);
}
