import { Tag } from 'cbor2';
import { PortcullisError } from '../../errors/index.js';
import { buildSignedAttributes } from '../attributes.js';
import { checkIntegrity } from '../integrity.js';
import { DEFAULT_MAX_ENVELOPE_BYTES, type EnvelopeParseOptions, type VerifiedEnvelope } from '../types.js';
import { decodeCbor } from './cbor-decode.js';
import { COSE_SIGN1_TAG } from './headers.js';
import { decodeCoseProtectedHeader } from './protected.js';
import { sigStructure } from './sig-structure.js';
import { parseCoseUnprotectedHeader } from './unprotected.js';

/**
 * Parses a Notary COSE envelope and checks its integrity (signature-envelope-cose.md;
 * notary-spec-digest §5): COSE_Sign1_Tagged, tag 18 around
 * [protected bstr, unprotected map, payload bstr (embedded, never detached), signature bstr].
 *
 * Errors as for JWS: ERR_SIZE_LIMIT, ERR_ENVELOPE_MALFORMED, ERR_CERT_MALFORMED,
 * ERR_ENVELOPE_HEADER_INVALID, ERR_ENVELOPE_ALGORITHM, ERR_SIGNATURE_INVALID, ERR_PAYLOAD_INVALID.
 */
function malformed(message: string): PortcullisError {
  return new PortcullisError('ERR_ENVELOPE_MALFORMED', message);
}

export function parseCoseEnvelope(bytes: Uint8Array, options: EnvelopeParseOptions = {}): VerifiedEnvelope {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_ENVELOPE_BYTES;
  if (bytes.byteLength > maxBytes) {
    throw new PortcullisError(
      'ERR_SIZE_LIMIT',
      `COSE envelope is ${bytes.byteLength} bytes, more than the limit of ${maxBytes}`,
    );
  }
  const message = decodeCbor(bytes, 'COSE envelope');
  if (!(message instanceof Tag) || Number(message.tag) !== COSE_SIGN1_TAG) {
    throw malformed('COSE envelope is not a COSE_Sign1_Tagged message (CBOR tag 18)');
  }
  const body: unknown = message.contents;
  if (!Array.isArray(body) || body.length !== 4) throw malformed('COSE_Sign1 must be an array of 4 items');
  const [protectedBytes, unprotected, payload, signature] = body as unknown[];
  if (!(protectedBytes instanceof Uint8Array)) throw malformed('COSE protected header is not a byte string');
  if (!(payload instanceof Uint8Array)) throw malformed('COSE payload is missing or detached');
  if (!(signature instanceof Uint8Array) || signature.length === 0) throw malformed('COSE signature is missing');

  const header = decodeCoseProtectedHeader(protectedBytes);
  const unsigned = parseCoseUnprotectedHeader(unprotected, header.labels, options.certificateCache);
  const signed = buildSignedAttributes(header.fields);

  checkIntegrity({
    declared: header.algorithm,
    leaf: unsigned.certificateChain[0]!,
    signingInput: sigStructure(new Uint8Array(protectedBytes), new Uint8Array(payload)),
    signature: new Uint8Array(signature),
    contentType: signed.contentType,
  });

  return {
    mediaType: 'application/cose',
    algorithm: header.algorithm,
    payload: new Uint8Array(payload),
    signed,
    unsigned,
    signature: new Uint8Array(signature),
  };
}
