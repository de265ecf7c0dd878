import '../x509/reflect-polyfill.js';
import { createHash } from 'node:crypto';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import { AlgorithmIdentifier } from '@peculiar/asn1-x509';
import { MessageImprint, PKIStatus, TimeStampReq, TimeStampResp } from '@peculiar/asn1-tsp';
import { PortcullisError } from '../errors/index.js';
import type { DigestAlgorithm } from '../util/index.js';
import { integerFromBigint } from './integer.js';
import { oidForDigest } from './oids.js';

export interface TimestampRequestOptions {
  /** The bytes to timestamp: the primitive signature of the Notary envelope. */
  readonly message: Uint8Array;
  /** The hash the signer chose (the one implied by its signing key). */
  readonly hash: DigestAlgorithm;
  /** A fresh random nonce from the caller (RFC 3161 §2.4.1 recommends one); omitted when absent. */
  readonly nonce?: bigint;
  /** Ask the TSA to embed its certificates; default true, as notation requires. */
  readonly certReq?: boolean;
  /** A TSA policy OID to request. */
  readonly policy?: string;
}

/**
 * Builds a DER RFC 3161 TimeStampReq (§2.4.1): version 1, messageImprint = hash(message) with
 * the SHA-2 algorithm given (parameters absent, as RFC 5754 §2 says to generate), optional nonce,
 * certReq true. Pure: the caller supplies the nonce.
 */
export function buildTimestampRequest(options: TimestampRequestOptions): Uint8Array {
  const hashedMessage = createHash(options.hash).update(options.message).digest();
  const request = new TimeStampReq({
    version: 1,
    messageImprint: new MessageImprint({
      hashAlgorithm: new AlgorithmIdentifier({ algorithm: oidForDigest(options.hash) }),
      hashedMessage: new OctetString(hashedMessage),
    }),
    certReq: options.certReq ?? true,
  });
  if (options.nonce !== undefined) {
    if (options.nonce <= 0n) {
      throw new PortcullisError('ERR_INPUT_INVALID', 'a timestamp request nonce must be a positive integer');
    }
    request.nonce = integerFromBigint(options.nonce).slice().buffer;
  }
  if (options.policy !== undefined) request.reqPolicy = options.policy;
  return new Uint8Array(AsnConvert.serialize(request));
}

const STATUS_NAMES: Readonly<Record<number, string>> = {
  [PKIStatus.granted]: 'granted',
  [PKIStatus.grantedWithMods]: 'grantedWithMods',
  [PKIStatus.rejection]: 'rejection',
  [PKIStatus.waiting]: 'waiting',
  [PKIStatus.revocationWarning]: 'revocationWarning',
  [PKIStatus.revocationNotification]: 'revocationNotification',
};

// RFC 3161 §2.4.2 PKIFailureInfo named bits (bit 0 is the first bit of the BIT STRING). The
// asn1-tsp enum numbers these differently, so the bits are read here directly.
const FAILURE_BITS: readonly (readonly [number, string])[] = [
  [0, 'badAlg'],
  [2, 'badRequest'],
  [5, 'badDataFormat'],
  [14, 'timeNotAvailable'],
  [15, 'unacceptedPolicy'],
  [16, 'unacceptedExtension'],
  [17, 'addInfoNotAvailable'],
  [25, 'systemFailure'],
];

function failureNames(bits: { value: ArrayBuffer; unusedBits: number }): string[] {
  const bytes = new Uint8Array(bits.value);
  const length = bytes.length * 8 - bits.unusedBits;
  return FAILURE_BITS.filter(([n]) => n < length && ((bytes[n >> 3] as number) >> (7 - (n & 7))) & 1).map(
    ([, name]) => name,
  );
}

/**
 * Extracts the DER TimeStampToken from a DER TimeStampResp (RFC 3161 §2.4.2). Any PKIStatus
 * other than granted / grantedWithMods is ERR_TIMESTAMP_INVALID carrying the TSA's status text
 * and failure bits. The token itself is not verified here: use parseTimestampToken and
 * verifyTimestamp (which also proves the imprint matches the request's message).
 */
export function parseTimestampResponse(der: Uint8Array): Uint8Array {
  let response: TimeStampResp;
  try {
    response = AsnConvert.parse(der, TimeStampResp);
  } catch (cause) {
    throw new PortcullisError(
      'ERR_TIMESTAMP_INVALID',
      `timestamp response cannot be decoded: ${(cause as Error).message}`,
      { cause },
    );
  }
  const { status, statusString, failInfo } = response.status;
  if (status !== PKIStatus.granted && status !== PKIStatus.grantedWithMods) {
    const text = statusString === undefined || statusString.length === 0 ? '' : `: ${statusString.join('; ')}`;
    const failures = failInfo === undefined ? [] : failureNames(failInfo);
    const failure = failures.length === 0 ? '' : ` (failure: ${failures.join(', ')})`;
    const name = STATUS_NAMES[status] ?? 'unknown';
    throw new PortcullisError(
      'ERR_TIMESTAMP_INVALID',
      `timestamp authority did not grant the request: status ${name} (${String(status)})${text}${failure}`,
    );
  }
  if (response.timeStampToken === undefined) {
    throw new PortcullisError('ERR_TIMESTAMP_INVALID', 'timestamp response is granted but carries no token');
  }
  return new Uint8Array(AsnConvert.serialize(response.timeStampToken));
}
