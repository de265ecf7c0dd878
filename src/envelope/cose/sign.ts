import { HEADER } from '../attributes.js';
import { coseLabelOf } from '../algorithms.js';
import { type PreparedEnvelope, checkSignRequest } from '../request.js';
import { epochSeconds } from '../time.js';
import type { SignatureAlgorithm, SignRequest } from '../types.js';
import { Tag, encodeCbor, type CborValue } from './cbor-encode.js';
import { COSE_LABEL, COSE_SIGN1_TAG, EPOCH_TIME_TAG } from './headers.js';
import { sigStructure } from './sig-structure.js';

/**
 * Produces COSE envelopes byte-compatible with notation (notation-core-go
 * signature/cose/envelope.go generateProtectedHeaders / generateUnprotectedHeaders): crit lists
 * signingScheme, authenticSigningTime (signing authority), expiry, then critical extended
 * attributes in request order; times are tag 1 with whole epoch seconds; maps are canonical.
 */
export function coseProtectedHeaderOf(
  request: SignRequest,
  algorithm: SignatureAlgorithm,
): Map<number | string, CborValue> {
  const req = checkSignRequest(request);
  const crit: string[] = [HEADER.signingScheme];
  const header = new Map<number | string, CborValue>();
  header.set(COSE_LABEL.alg, coseLabelOf(algorithm));
  header.set(HEADER.signingScheme, req.signingScheme);
  const time = new Tag(EPOCH_TIME_TAG, epochSeconds(req.signingTime));
  if (req.signingScheme === 'notary.x509') {
    header.set(HEADER.signingTime, time);
  } else {
    crit.push(HEADER.authenticSigningTime);
    header.set(HEADER.authenticSigningTime, time);
  }
  if (req.expiry !== undefined) {
    crit.push(HEADER.expiry);
    header.set(HEADER.expiry, new Tag(EPOCH_TIME_TAG, epochSeconds(req.expiry)));
  }
  for (const attr of req.extendedAttributes) {
    header.set(attr.key, attr.value as CborValue);
    if (attr.critical) crit.push(attr.key);
  }
  header.set(COSE_LABEL.crit, crit);
  header.set(COSE_LABEL.contentType, req.contentType);
  return header;
}

export interface CoseParts {
  /** The encoded protected bucket, used verbatim. */
  readonly protectedBytes: Uint8Array;
  readonly payload: Uint8Array;
  /** Unprotected labels other than the timestamp token (added by finish). */
  readonly unprotected: ReadonlyMap<number | string, CborValue>;
  readonly timestampSignature?: Uint8Array | undefined;
}

/** The unprotected bucket notation writes; an empty chain omits x5chain (C1 conformance vector). */
export function coseUnprotectedHeaderOf(
  certificateChain: readonly Uint8Array[],
  signingAgent: string | undefined,
): Map<number | string, CborValue> {
  const header = new Map<number | string, CborValue>();
  if (signingAgent !== undefined && signingAgent !== '') header.set(HEADER.signingAgent, signingAgent);
  if (certificateChain.length > 0) header.set(COSE_LABEL.x5chain, [...certificateChain]);
  return header;
}

/** Lays out a COSE_Sign1_Tagged message from already-built parts; the caller signs `signingInput`. */
export function prepareCoseFromParts(parts: CoseParts): PreparedEnvelope {
  return {
    signingInput: sigStructure(parts.protectedBytes, parts.payload),
    finish(signature, timestampSignature = parts.timestampSignature) {
      const unprotected = new Map(parts.unprotected);
      if (timestampSignature !== undefined && timestampSignature.length > 0) {
        unprotected.set(HEADER.timestampSignature, timestampSignature);
      }
      return encodeCbor(new Tag(COSE_SIGN1_TAG, [parts.protectedBytes, unprotected, parts.payload, signature]));
    },
  };
}

/** Prepares a COSE envelope for a sign request with the given (key-derived) algorithm. */
export function prepareCose(
  request: SignRequest,
  algorithm: SignatureAlgorithm,
  certificateChain: readonly Uint8Array[],
): PreparedEnvelope {
  return prepareCoseFromParts({
    protectedBytes: encodeCbor(coseProtectedHeaderOf(request, algorithm)),
    payload: request.payload,
    unprotected: coseUnprotectedHeaderOf(certificateChain, request.signingAgent),
    timestampSignature: request.timestampSignature,
  });
}
