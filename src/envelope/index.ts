import { PortcullisError } from '../errors/index.js';
import { MEDIA_TYPE } from '../oci/index.js';
import { parseCoseEnvelope } from './cose/parse.js';
import { parseJwsEnvelope } from './jws/parse.js';
import type { EnvelopeParseOptions, VerifiedEnvelope } from './types.js';

/**
 * Parses a signature envelope by its media type and checks integrity (signature and payload
 * content type). Certificate-chain requirements, trust, unknown critical attributes and plugins
 * are the verification workflow's business, not this function's: unknown critical extended
 * attributes come back in `signed.extendedAttributes` with `critical: true`.
 */
export function parseEnvelope(
  mediaType: string,
  bytes: Uint8Array,
  options: EnvelopeParseOptions = {},
): VerifiedEnvelope {
  switch (mediaType) {
    case MEDIA_TYPE.jws:
      return parseJwsEnvelope(bytes, options);
    case MEDIA_TYPE.cose:
      return parseCoseEnvelope(bytes, options);
    default:
      throw new PortcullisError(
        'ERR_ENVELOPE_UNSUPPORTED',
        `signature envelope format with media type "${mediaType}" is not supported`,
      );
  }
}

export { parseJwsEnvelope } from './jws/parse.js';
export { parseCoseEnvelope } from './cose/parse.js';
export { parsePayload, type NotaryPayload } from './payload.js';
export {
  keyMatches,
  prepareEnvelope,
  signEnvelope,
  signEnvelopeWith,
  type EnvelopeFormat,
  type RawSigner,
  type SigningKey,
} from './sign.js';
export type { PreparedEnvelope } from './request.js';
export { HEADER } from './attributes.js';
export { DEFAULT_MAX_ENVELOPE_BYTES } from './types.js';
export type {
  EnvelopeMediaType,
  EnvelopeParseOptions,
  ExtendedAttribute,
  SignatureAlgorithm,
  SignedAttributes,
  SigningScheme,
  SignRequest,
  UnsignedAttributes,
  VerifiedEnvelope,
} from './types.js';
export { signPrimitive, verifyPrimitive } from './algorithms.js';
export { prepareCose } from './cose/sign.js';
export { prepareJws } from './jws/sign.js';
