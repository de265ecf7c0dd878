import { Tag } from 'cbor2';
import { defaultEncodeOptions, writeUnknown } from 'cbor2/encoder';
import { sortLengthFirstDeterministic } from 'cbor2/sorts';
import { Writer } from 'cbor2/writer';
import { PortcullisError } from '../../errors/index.js';

/**
 * Deterministic CBOR as notation writes it, by cbor2: integers in their shortest form, map keys
 * in RFC 7049 §3.9 canonical order (shorter encoded key first, then bytewise: integer labels 1,
 * 2, 3 first, then text labels by length, as in notation's COSE protected header; C1
 * conformance vector), floats as float64. What cbor2 would encode but a signature must not carry
 * (non-finite numbers, Dates and other class instances, undefined, nesting past 64) is refused
 * first, with ERR_INPUT_INVALID.
 */
export { Tag };

export type CborValue =
  | number
  | string
  | boolean
  | null
  | Uint8Array
  | Tag
  | readonly CborValue[]
  | ReadonlyMap<number | string, CborValue>
  | { readonly [key: string]: CborValue };

const OPTIONS = {
  ...defaultEncodeOptions,
  sortKeys: sortLengthFirstDeterministic,
  float64: true,
  ignoreOriginalEncoding: true,
  chunkSize: 1024,
};
const MAX_DEPTH = 64;

/**
 * cbor2's `encode` makes a new Writer per call, which cost ~25 µs of the ~30 µs a COSE
 * verification spends encoding its Sig_structure (npm run bench); one Writer, emptied after
 * every (synchronous) encoding, costs ~3 µs. It holds no data between calls.
 */
const WRITER = new Writer(OPTIONS);

export function encodeCbor(value: CborValue): Uint8Array {
  check(value, 0);
  try {
    writeUnknown(value, WRITER, OPTIONS);
    return WRITER.read();
  } finally {
    WRITER.clear();
  }
}

function invalid(message: string): PortcullisError {
  return new PortcullisError('ERR_INPUT_INVALID', message);
}

function check(value: unknown, depth: number): void {
  if (depth > MAX_DEPTH) throw invalid('value nests too deeply to encode as CBOR');
  if (value === null || typeof value === 'boolean' || typeof value === 'string' || value instanceof Uint8Array) return;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw invalid('cannot encode a non-finite number as CBOR');
    return;
  }
  if (value instanceof Tag) return check(value.contents, depth + 1);
  if (Array.isArray(value)) {
    for (const item of value) check(item, depth + 1);
    return;
  }
  if (value instanceof Map) {
    for (const [k, v] of value as Map<unknown, unknown>) {
      if (typeof k !== 'string' && !Number.isSafeInteger(k)) throw invalid('CBOR map keys must be integers or text');
      check(v, depth + 1);
    }
    return;
  }
  const proto: unknown = typeof value === 'object' ? Object.getPrototypeOf(value) : undefined;
  if (proto !== Object.prototype && proto !== null)
    throw invalid('only plain objects and Maps can be encoded as CBOR maps');
  for (const v of Object.values(value as object)) check(v, depth + 1);
}
