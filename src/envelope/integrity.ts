import { PortcullisError } from '../errors/index.js';
import { MEDIA_TYPE } from '../oci/index.js';
import { type Certificate, signatureAlgorithmForKey } from '../x509/index.js';
import { verifyPrimitive } from './algorithms.js';
import type { SignatureAlgorithm } from './types.js';

/**
 * The integrity checks both envelope formats end with (trust-store-trust-policy.md "Validate
 * Integrity"; notary-spec-digest §3, §4, §6):
 * 1. the algorithm derived from the leaf key must equal the declared one (alg-substitution
 *    defence: a verifier must never let the envelope choose how its key is used);
 * 2. the primitive signature verifies over the format's signing input with the leaf key;
 * 3. the payload content type is the Notary payload v1 type.
 */
export function checkIntegrity(input: {
  readonly declared: SignatureAlgorithm;
  readonly leaf: Certificate;
  readonly signingInput: Uint8Array;
  readonly signature: Uint8Array;
  readonly contentType: string;
}): void {
  const { declared, leaf } = input;
  const expected = signatureAlgorithmForKey(leaf.key, leaf.subject);
  if (expected !== declared) {
    throw new PortcullisError(
      'ERR_ENVELOPE_ALGORITHM',
      `envelope declares ${declared} but the signing certificate's key requires ${expected}`,
    );
  }
  if (!verifyPrimitive(declared, leaf.publicKey, input.signingInput, input.signature)) {
    throw new PortcullisError(
      'ERR_SIGNATURE_INVALID',
      'signature is invalid: it does not verify with the signing certificate key',
    );
  }
  if (input.contentType !== MEDIA_TYPE.notaryPayload) {
    throw new PortcullisError('ERR_PAYLOAD_INVALID', `payload content type "${input.contentType}" not supported`);
  }
}
