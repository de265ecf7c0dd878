import { PortcullisError } from '../errors/index.js';
import {
  parseEnvelope,
  type EnvelopeFormat,
  type EnvelopeMediaType,
  type SignatureAlgorithm,
  type SignRequest,
} from '../envelope/index.js';
import { MEDIA_TYPE } from '../oci/index.js';
import { type Certificate, HASH_OF, checkChainValidAt } from '../x509/index.js';
import type { TimestampClient } from './timestamp-client.js';

/** What both signers share: the result, the interface, the chain check and the envelope's last step. */

export interface SignResult {
  readonly envelope: Uint8Array;
  readonly mediaType: EnvelopeMediaType;
  /** The signing certificate chain in the envelope, leaf first. */
  readonly chain: readonly Certificate[];
  /** Annotations an envelope-generating plugin asks to add to the signature manifest. */
  readonly annotations?: Readonly<Record<string, string>>;
}

/** Produces a Notary signature envelope for a sign request. */
export interface Signer {
  sign(request: SignRequest, format: EnvelopeFormat): Promise<SignResult>;
}

export function envelopeMediaType(format: EnvelopeFormat): EnvelopeMediaType {
  return format === 'jws' ? MEDIA_TYPE.jws : MEDIA_TYPE.cose;
}

export function keyInvalid(message: string, cause?: unknown): PortcullisError {
  const detail = cause instanceof Error ? `: ${cause.message}` : '';
  return new PortcullisError('ERR_KEY_INVALID', `${message}${detail}`, cause === undefined ? {} : { cause });
}

/** The time the signing chain must be valid at: the (authentic) signing time of the request. */
export function checkChainValidForSigning(
  chain: readonly Certificate[],
  request: SignRequest,
  fail: (e: unknown) => Error,
): void {
  try {
    checkChainValidAt(chain, request.signingTime, 'verification');
  } catch (cause) {
    throw fail(cause);
  }
}

/**
 * Signs `prepared`'s signing input result: asks the TSA (when configured) to countersign the
 * primitive signature with the hash the key implies, and checks the finished envelope parses and
 * verifies, so a signer never emits an envelope its own verifier rejects for integrity.
 */
export async function finishEnvelope(
  format: EnvelopeFormat,
  request: SignRequest,
  algorithm: SignatureAlgorithm,
  chain: readonly Certificate[],
  finish: (signature: Uint8Array, timestampSignature?: Uint8Array) => Uint8Array,
  signature: Uint8Array,
  timestampClient: TimestampClient | undefined,
): Promise<Uint8Array> {
  let token: Uint8Array | undefined;
  if (timestampClient !== undefined) {
    if ((request.signingScheme ?? 'notary.x509') !== 'notary.x509') {
      throw new PortcullisError(
        'ERR_INPUT_INVALID',
        'RFC 3161 timestamps apply to the notary.x509 signing scheme only',
      );
    }
    token = await timestampClient.countersign(signature, HASH_OF[algorithm], chain);
  }
  const envelope = token === undefined ? finish(signature) : finish(signature, token);
  parseEnvelope(envelopeMediaType(format), envelope);
  return envelope;
}
