import { decode, type DecodeOptions } from 'cbor2';
import { PortcullisError } from '../../errors/index.js';

/**
 * Strict CBOR decoding for untrusted COSE envelopes (RFC 8949 §5 "well-formedness and
 * validity"): no duplicate map keys (even ones that only collide after decoding, like the
 * integer 1 and the float 1.0), no indefinite-length (streaming) items, bounded depth, no
 * trailing bytes, maps always as Map (integer and text labels), and no tag interpretation: tags
 * come back as cbor2 Tag objects so the COSE parser decides what each one may be.
 */
const MAX_DEPTH = 32;

function createMap(entries: readonly (readonly [unknown, unknown, Uint8Array])[]): Map<unknown, unknown> {
  const map = new Map<unknown, unknown>();
  for (const [key, value] of entries) {
    if (map.has(key)) throw new Error(`duplicate map key ${String(key)}`);
    map.set(key, value);
  }
  return map;
}

const OPTIONS: DecodeOptions = {
  rejectDuplicateKeys: true,
  rejectStreaming: true,
  preferMap: true,
  ignoreGlobalTags: true,
  maxDepth: MAX_DEPTH,
  createObject: createMap,
};

export function decodeCbor(bytes: Uint8Array, what: string): unknown {
  try {
    return decode(bytes, OPTIONS);
  } catch (cause) {
    throw new PortcullisError('ERR_ENVELOPE_MALFORMED', `${what} is not valid CBOR: ${(cause as Error).message}`, {
      cause,
    });
  }
}
