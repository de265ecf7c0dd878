import { createHash, randomBytes } from 'node:crypto';
import { request, type Dispatcher } from 'undici';
import { PortcullisError } from '../errors/index.js';
import {
  buildTimestampRequest,
  parseTimestampResponse,
  parseTimestampToken,
  verifyTimestamp,
  type TimestampVerification,
} from '../timestamp/index.js';
import type { DigestAlgorithm } from '../util/index.js';
import { bytesEqual, type Certificate, validateCertificateChain, checkChainCoversInterval } from '../x509/index.js';

export interface TimestampClientOptions {
  /** The TSA endpoint (http or https). */
  readonly url: string;
  /** The TSA root certificate(s) the returned token must chain to (`--timestamp-root-cert`). */
  readonly tsaRoots: readonly Certificate[];
  /** Deadline for the whole exchange, connect to last byte (default 10 s). */
  readonly deadlineMs?: number;
  /** Largest accepted TimeStampResp (default 1 MiB). */
  readonly maxResponseBytes?: number;
  /** An undici dispatcher (custom TLS CA, proxy); the global one otherwise. */
  readonly dispatcher?: Dispatcher;
}

export const DEFAULT_TIMESTAMP_DEADLINE_MS = 10_000;
export const DEFAULT_TIMESTAMP_MAX_RESPONSE_BYTES = 1024 * 1024;

const QUERY_TYPE = 'application/timestamp-query';
const REPLY_TYPE = 'application/timestamp-reply';

/**
 * An RFC 3161 client (§3.4, time-stamp protocol via HTTP) for signing: POSTs a DER TimeStampReq
 * with a fresh 64-bit nonce and certReq=true, expects `200 application/timestamp-reply`, and
 * checks the granted token answers this request (nonce and message imprint). `countersign` also
 * verifies the token the way a verifier will (TSA chain to the configured root, timestamping
 * requirements, inside the signing chain's validity), so signing never produces a timestamp its
 * own verification would reject. Every failure is ERR_TIMESTAMP_FAILED naming the URL.
 */
export class TimestampClient {
  readonly url: string;
  readonly tsaRoots: readonly Certificate[];
  readonly deadlineMs: number;
  readonly maxResponseBytes: number;
  readonly #dispatcher: Dispatcher | undefined;

  constructor(options: TimestampClientOptions) {
    let parsed: URL;
    try {
      parsed = new URL(options.url);
    } catch (cause) {
      throw new PortcullisError(
        'ERR_INPUT_INVALID',
        `timestamp URL ${JSON.stringify(options.url)} is not a valid URL`,
        { cause },
      );
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      throw new PortcullisError(
        'ERR_INPUT_INVALID',
        `timestamp URL ${JSON.stringify(options.url)} must be http or https`,
      );
    }
    if (options.tsaRoots.length === 0) {
      throw new PortcullisError('ERR_INPUT_INVALID', 'a timestamp root certificate is required with a timestamp URL');
    }
    this.url = options.url;
    this.tsaRoots = options.tsaRoots;
    this.deadlineMs = options.deadlineMs ?? DEFAULT_TIMESTAMP_DEADLINE_MS;
    this.maxResponseBytes = options.maxResponseBytes ?? DEFAULT_TIMESTAMP_MAX_RESPONSE_BYTES;
    this.#dispatcher = options.dispatcher;
  }

  #fail(message: string, cause?: unknown): PortcullisError {
    const detail = cause === undefined ? '' : `: ${cause instanceof Error ? cause.message : String(cause)}`;
    return new PortcullisError('ERR_TIMESTAMP_FAILED', `timestamp authority ${this.url}: ${message}${detail}`, {
      ...(cause === undefined ? {} : { cause }),
      context: { subject: this.url },
    });
  }

  /**
   * Asks the TSA to timestamp `message` (hash(message) is sent, never the message) and returns
   * the DER TimeStampToken, checked to answer this request but not yet trusted.
   */
  async requestToken(message: Uint8Array, hash: DigestAlgorithm): Promise<Uint8Array> {
    const nonce = freshNonce();
    const query = buildTimestampRequest({ message, hash, nonce, certReq: true });
    const reply = await this.#post(query);
    let token: Uint8Array;
    try {
      token = parseTimestampResponse(reply);
    } catch (cause) {
      throw this.#fail('the timestamp response is not usable', cause);
    }
    let info;
    try {
      info = parseTimestampToken(token).info;
    } catch (cause) {
      throw this.#fail('the timestamp token is malformed', cause);
    }
    if (info.nonce !== nonce) {
      throw this.#fail(`the timestamp token's nonce does not match the request (a replayed or foreign response)`);
    }
    const expected = createHash(hash).update(message).digest();
    if (info.messageImprint.hashAlgorithm !== hash || !bytesEqual(info.messageImprint.hashedMessage, expected)) {
      throw this.#fail('the timestamp token does not cover the signature that was sent');
    }
    return token;
  }

  /**
   * Timestamps a primitive signature and verifies the token: imprint, CMS signature, TSA chain
   * to one of `tsaRoots` at genTime with the timestamping requirements, and the timestamp
   * interval inside every `signingChain` certificate's validity. Returns the token DER.
   */
  async countersign(
    signature: Uint8Array,
    hash: DigestAlgorithm,
    signingChain: readonly Certificate[],
  ): Promise<Uint8Array> {
    const token = await this.requestToken(signature, hash);
    let verification: TimestampVerification;
    try {
      verification = verifyTimestamp(parseTimestampToken(token), { signature, trustedRoots: this.tsaRoots });
      validateCertificateChain(verification.tsaChain, 'timestamping');
    } catch (cause) {
      throw this.#fail('the timestamp does not verify against the timestamp root certificate', cause);
    }
    try {
      checkChainCoversInterval(signingChain, verification.interval.notBefore, verification.interval.notAfter);
    } catch (cause) {
      throw this.#fail('the timestamp is outside the signing certificate chain validity', cause);
    }
    return token;
  }

  async #post(query: Uint8Array): Promise<Uint8Array> {
    const controller = new AbortController();
    const timer = setTimeout(
      () => controller.abort(new Error(`no answer within ${this.deadlineMs} ms`)),
      this.deadlineMs,
    );
    try {
      let response: Dispatcher.ResponseData;
      try {
        response = await request(this.url, {
          method: 'POST',
          headers: { 'content-type': QUERY_TYPE, accept: REPLY_TYPE },
          body: Buffer.from(query),
          signal: controller.signal,
          ...(this.#dispatcher === undefined ? {} : { dispatcher: this.#dispatcher }),
        });
      } catch (cause) {
        throw this.#fail('request failed', controller.signal.aborted ? controller.signal.reason : cause);
      }
      const { statusCode, headers, body } = response;
      // Destroying the body early (limits, wrong answers) must not surface as an uncaught error.
      body.on('error', () => undefined);
      if (statusCode !== 200) {
        body.destroy();
        throw this.#fail(`unexpected HTTP status ${statusCode}`);
      }
      const contentType = headerValue(headers['content-type']);
      const mediaType = contentType?.split(';')[0]?.trim().toLowerCase();
      if (mediaType !== REPLY_TYPE) {
        body.destroy();
        throw this.#fail(`unexpected content type ${JSON.stringify(contentType ?? '')}, want ${REPLY_TYPE}`);
      }
      const length = Number(headerValue(headers['content-length']) ?? NaN);
      if (Number.isFinite(length) && length > this.maxResponseBytes) {
        body.destroy();
        throw this.#fail(`response of ${length} bytes exceeds the ${this.maxResponseBytes}-byte limit`);
      }
      const chunks: Buffer[] = [];
      let size = 0;
      try {
        for await (const chunk of body) {
          const buf = chunk as Buffer;
          size += buf.length;
          if (size > this.maxResponseBytes) {
            body.destroy();
            throw this.#fail(`response exceeds the ${this.maxResponseBytes}-byte limit`);
          }
          chunks.push(buf);
        }
      } catch (cause) {
        if (cause instanceof PortcullisError) throw cause;
        throw this.#fail('reading the response failed', controller.signal.aborted ? controller.signal.reason : cause);
      }
      return new Uint8Array(Buffer.concat(chunks));
    } finally {
      clearTimeout(timer);
    }
  }
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** A random positive 64-bit nonce (RFC 3161 §2.4.1), as tspclient-go sends. */
function freshNonce(): bigint {
  for (;;) {
    const n = BigInt(`0x${randomBytes(8).toString('hex')}`);
    if (n > 0n) return n;
  }
}
