import { PortcullisError } from '../errors/index.js';
import { MEDIA_TYPE } from '../oci/index.js';
import { HEADER } from './attributes.js';
import type { ExtendedAttribute, SignRequest, SigningScheme } from './types.js';

/**
 * Checks a SignRequest before any bytes are produced, so a signer never emits an envelope its
 * own verifier would reject (signature-specification.md "Signed Attributes").
 */
export interface CheckedRequest {
  readonly payload: Uint8Array;
  readonly contentType: string;
  readonly signingScheme: SigningScheme;
  readonly signingTime: Date;
  readonly expiry: Date | undefined;
  readonly extendedAttributes: readonly ExtendedAttribute[];
  readonly signingAgent: string | undefined;
  readonly timestampSignature: Uint8Array | undefined;
}

/** Names the signer writes itself; an extended attribute may not reuse them. */
const RESERVED = new Set<string>([
  'alg',
  'cty',
  'crit',
  HEADER.signingScheme,
  HEADER.signingTime,
  HEADER.authenticSigningTime,
  HEADER.expiry,
]);

function bad(message: string): PortcullisError {
  return new PortcullisError('ERR_INPUT_INVALID', message);
}

export function checkSignRequest(request: SignRequest): CheckedRequest {
  const signingScheme = request.signingScheme ?? 'notary.x509';
  if (signingScheme !== 'notary.x509' && signingScheme !== 'notary.x509.signingAuthority') {
    throw bad(`unsupported signing scheme ${JSON.stringify(signingScheme)}`);
  }
  if (!(request.signingTime instanceof Date) || !Number.isFinite(request.signingTime.getTime())) {
    throw bad('signing time is not a valid date');
  }
  const expiry = request.expiry;
  if (expiry !== undefined && !(expiry.getTime() > request.signingTime.getTime())) {
    throw bad('expiry must be after the signing time');
  }
  const seen = new Set<string>();
  for (const attr of request.extendedAttributes ?? []) {
    if (RESERVED.has(attr.key)) throw bad(`extended attribute "${attr.key}" collides with a Notary header`);
    if (seen.has(attr.key)) throw bad(`extended attribute "${attr.key}" is repeated`);
    seen.add(attr.key);
  }
  return {
    payload: request.payload,
    contentType: request.contentType ?? MEDIA_TYPE.notaryPayload,
    signingScheme,
    signingTime: request.signingTime,
    expiry,
    extendedAttributes: request.extendedAttributes ?? [],
    signingAgent: request.signingAgent,
    timestampSignature: request.timestampSignature,
  };
}

/**
 * An envelope waiting for its primitive signature: sign `signingInput` (with a local key, a
 * remote KMS or a plugin), then `finish` with the signature and, optionally, an RFC 3161 token
 * obtained over that signature.
 */
export interface PreparedEnvelope {
  readonly signingInput: Uint8Array;
  finish(signature: Uint8Array, timestampSignature?: Uint8Array): Uint8Array;
}
