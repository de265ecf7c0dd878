import { PortcullisError } from '../../errors/index.js';
import { certificateFrom, type CertificateCache } from '../../x509/index.js';
import { HEADER } from '../attributes.js';
import type { UnsignedAttributes } from '../types.js';
import { COSE_LABEL } from './headers.js';

/**
 * The COSE unprotected bucket (signature-envelope-cose.md "Unsigned Attributes"): x5chain
 * (label 33) as an array of DER certificates, leaf first — notation reads it only from here and
 * only as an array, so a single bare bstr (allowed by RFC 9360) is "certificate chain is not
 * present"; the timestamp token as bstr; the signing agent as tstr. Labels repeated from the
 * protected bucket are an error (RFC 9052 §3: the buckets MUST be disjoint); other labels are
 * ignored as notation ignores them.
 */
function malformed(message: string): PortcullisError {
  return new PortcullisError('ERR_ENVELOPE_MALFORMED', message);
}

export function parseCoseUnprotectedHeader(
  map: unknown,
  protectedLabels: ReadonlySet<unknown>,
  cache: CertificateCache | undefined,
): UnsignedAttributes {
  if (!(map instanceof Map)) throw malformed('COSE unprotected header is not a map');
  for (const label of (map as Map<unknown, unknown>).keys()) {
    if (protectedLabels.has(label)) throw malformed(`COSE header label ${String(label)} is in both buckets`);
  }
  const x5chain: unknown = map.get(COSE_LABEL.x5chain);
  if (!Array.isArray(x5chain) || x5chain.length === 0) throw malformed('certificate chain is not present');
  const certificateChain = x5chain.map((entry: unknown, i) => {
    if (!(entry instanceof Uint8Array)) throw malformed(`x5chain[${i}] is not a byte string`);
    return certificateFrom(new Uint8Array(entry), cache);
  });

  const token: unknown = map.get(HEADER.timestampSignature);
  if (token !== undefined && (!(token instanceof Uint8Array) || token.length === 0)) {
    throw malformed(`"${HEADER.timestampSignature}" must be a non-empty byte string`);
  }
  const signingAgent: unknown = map.get(HEADER.signingAgent);
  if (signingAgent !== undefined && typeof signingAgent !== 'string') {
    throw malformed(`"${HEADER.signingAgent}" must be a text string`);
  }
  return {
    certificateChain,
    timestampSignature: token === undefined ? undefined : new Uint8Array(token),
    signingAgent,
  };
}
