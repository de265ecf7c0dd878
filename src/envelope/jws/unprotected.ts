import { PortcullisError } from '../../errors/index.js';
import { decodeBase64, isJsonObject } from '../../util/index.js';
import { certificateFrom, type CertificateCache } from '../../x509/index.js';
import { HEADER } from '../attributes.js';
import type { UnsignedAttributes } from '../types.js';

/**
 * The JWS unprotected `header` (signature-envelope-jws.md "Unsigned Attributes"): `x5c`, an array
 * of standard-base64 DER certificates leaf first; `io.cncf.notary.timestampSignature`, a
 * standard-base64 RFC 3161 token; `io.cncf.notary.signingAgent`, free text.
 *
 * Names are matched case-insensitively, as Go's encoding/json matches struct fields: notation's
 * own mock envelopes write `io.cncf.notary.SigningAgent` (vector B1). Two members that fold to
 * the same name are ambiguous and rejected. Other members are ignored as notation ignores them:
 * they are unsigned and carry no meaning.
 */
const KNOWN = new Map<string, string>([
  ['x5c', 'x5c'],
  [HEADER.timestampSignature.toLowerCase(), HEADER.timestampSignature],
  [HEADER.signingAgent.toLowerCase(), HEADER.signingAgent],
]);

function malformed(message: string): PortcullisError {
  return new PortcullisError('ERR_ENVELOPE_MALFORMED', message);
}

export function parseJwsUnprotectedHeader(header: unknown, cache: CertificateCache | undefined): UnsignedAttributes {
  if (!isJsonObject(header)) throw malformed('JWS "header" is not a JSON object');
  const found = new Map<string, unknown>();
  for (const [key, value] of Object.entries(header)) {
    const name = KNOWN.get(asciiLower(key));
    if (name === undefined) continue;
    if (found.has(name)) throw malformed(`JWS "header" has more than one "${name}" member`);
    found.set(name, value);
  }

  const x5c = found.get('x5c');
  if (!Array.isArray(x5c) || x5c.length === 0) throw malformed('certificate chain is not present');
  const certificateChain = x5c.map((entry, i) => {
    if (typeof entry !== 'string') throw malformed(`x5c[${i}] is not a string`);
    return certificateFrom(decodeBase64(entry, `x5c[${i}]`, 'ERR_ENVELOPE_MALFORMED'), cache);
  });

  let timestampSignature: Uint8Array | undefined;
  const token = found.get(HEADER.timestampSignature);
  if (token !== undefined) {
    if (typeof token !== 'string' || token.length === 0)
      throw malformed(`"${HEADER.timestampSignature}" must be non-empty base64`);
    timestampSignature = decodeBase64(token, HEADER.timestampSignature, 'ERR_ENVELOPE_MALFORMED');
  }

  const signingAgent = found.get(HEADER.signingAgent);
  if (signingAgent !== undefined && typeof signingAgent !== 'string') {
    throw malformed(`"${HEADER.signingAgent}" must be a string`);
  }
  return { certificateChain, timestampSignature, signingAgent };
}

// Go folds with Unicode simple folding; ASCII is enough for these ASCII names (a non-ASCII
// spelling such as the Kelvin sign never matches here and is ignored as an unknown member).
function asciiLower(s: string): string {
  return s.replace(/[A-Z]/g, (c) => c.toLowerCase());
}
