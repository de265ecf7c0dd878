import { PortcullisError } from '../../errors/index.js';

/**
 * A small deterministic CBOR encoder for what notation writes: integers, text, bytes, arrays,
 * maps, tags, booleans, null and float64. Map keys are sorted in RFC 7049 §3.9 canonical order
 * (shorter encoded key first, then bytewise), which is how notation's COSE protected header is
 * laid out (integer labels 1, 2, 3 first, then text labels by length; C1 conformance vector).
 */
export class CborTag {
  constructor(
    readonly tag: number,
    readonly value: CborValue,
  ) {}
}

export type CborValue =
  | number
  | string
  | boolean
  | null
  | Uint8Array
  | CborTag
  | readonly CborValue[]
  | ReadonlyMap<number | string, CborValue>
  | { readonly [key: string]: CborValue };

const MAX_DEPTH = 64;

export function encodeCbor(value: CborValue): Uint8Array {
  const parts: Uint8Array[] = [];
  write(value, parts, 0);
  return new Uint8Array(Buffer.concat(parts));
}

function head(major: number, n: number): Uint8Array {
  const mt = major << 5;
  if (n < 24) return Uint8Array.of(mt | n);
  if (n < 0x100) return Uint8Array.of(mt | 24, n);
  if (n < 0x10000) return Uint8Array.of(mt | 25, n >> 8, n & 0xff);
  if (n < 0x100000000) {
    const b = new Uint8Array(5);
    b[0] = mt | 26;
    new DataView(b.buffer).setUint32(1, n);
    return b;
  }
  const b = new Uint8Array(9);
  b[0] = mt | 27;
  new DataView(b.buffer).setBigUint64(1, BigInt(n));
  return b;
}

function write(value: CborValue, out: Uint8Array[], depth: number): void {
  if (depth > MAX_DEPTH) throw new PortcullisError('ERR_INPUT_INVALID', 'value nests too deeply to encode as CBOR');
  if (value === null) {
    out.push(Uint8Array.of(0xf6));
  } else if (typeof value === 'boolean') {
    out.push(Uint8Array.of(value ? 0xf5 : 0xf4));
  } else if (typeof value === 'number') {
    if (Number.isSafeInteger(value)) {
      out.push(value >= 0 ? head(0, value) : head(1, -1 - value));
    } else if (Number.isFinite(value)) {
      const b = new Uint8Array(9);
      b[0] = 0xfb;
      new DataView(b.buffer).setFloat64(1, value);
      out.push(b);
    } else {
      throw new PortcullisError('ERR_INPUT_INVALID', 'cannot encode a non-finite number as CBOR');
    }
  } else if (typeof value === 'string') {
    const bytes = new Uint8Array(Buffer.from(value, 'utf8'));
    out.push(head(3, bytes.length), bytes);
  } else if (value instanceof Uint8Array) {
    out.push(head(2, value.length), value);
  } else if (value instanceof CborTag) {
    out.push(head(6, value.tag));
    write(value.value, out, depth + 1);
  } else if (Array.isArray(value)) {
    const items = value as readonly CborValue[];
    out.push(head(4, items.length));
    for (const item of items) write(item, out, depth + 1);
  } else {
    if (!(value instanceof Map) && !isPlainObject(value)) {
      throw new PortcullisError('ERR_INPUT_INVALID', 'only plain objects and Maps can be encoded as CBOR maps');
    }
    const entries: [number | string, CborValue][] =
      value instanceof Map ? [...(value as ReadonlyMap<number | string, CborValue>)] : Object.entries(value);
    const encoded = entries.map(([k, v]) => {
      if (typeof k !== 'string' && !Number.isSafeInteger(k)) {
        throw new PortcullisError('ERR_INPUT_INVALID', 'CBOR map keys must be integers or text');
      }
      return [encodeCbor(k), v] as const;
    });
    encoded.sort(([a], [b]) => a.length - b.length || Buffer.compare(a, b));
    out.push(head(5, encoded.length));
    for (const [k, v] of encoded) {
      out.push(k);
      write(v, out, depth + 1);
    }
  }
}

function isPlainObject(value: object): boolean {
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}
