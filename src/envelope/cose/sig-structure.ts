import { encodeCbor } from './cbor-encode.js';
import { SIGNATURE1_CONTEXT } from './headers.js';

/**
 * The bytes a COSE_Sign1 signature covers (RFC 9052 §4.4):
 * CBOR(["Signature1", body_protected, external_aad = h'', payload]). `protectedBytes` must be the
 * protected bucket exactly as it appears in the message, never a re-encoding.
 */
export function sigStructure(protectedBytes: Uint8Array, payload: Uint8Array): Uint8Array {
  return encodeCbor([SIGNATURE1_CONTEXT, protectedBytes, new Uint8Array(0), payload]);
}
