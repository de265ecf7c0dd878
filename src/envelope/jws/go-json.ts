import { PortcullisError } from '../../errors/index.js';

/**
 * Serialises a value the way Go's encoding/json.Marshal serialises the equivalent
 * map[string]interface{}: object keys sorted by their UTF-8 bytes, no whitespace, and Go's
 * string escaping (HTML-sensitive `<`, `>`, `&` and U+2028/U+2029 escaped). notation builds the
 * JWS protected header as such a map, so this reproduces its bytes exactly
 * (notation-core-go signature/jws/jws.go getSignedAttributes; C1 conformance vector).
 */
export function goJsonStringify(value: unknown): string {
  return encode(value, 0);
}

const MAX_DEPTH = 64;

function encode(value: unknown, depth: number): string {
  if (depth > MAX_DEPTH) throw new PortcullisError('ERR_INPUT_INVALID', 'value nests too deeply to encode');
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
      return encodeString(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      // JS and Go (strconv 'f'/-1, switching to exponent form at 1e21 and 1e-6) agree on finite numbers.
      if (!Number.isFinite(value)) throw new PortcullisError('ERR_INPUT_INVALID', 'cannot encode a non-finite number');
      return Object.is(value, -0) ? '-0' : String(value);
    case 'object':
      break;
    default:
      throw new PortcullisError('ERR_INPUT_INVALID', `cannot encode a value of type ${typeof value} as JSON`);
  }
  if (Array.isArray(value)) return `[${value.map((v) => encode(v, depth + 1)).join(',')}]`;
  const proto: unknown = Object.getPrototypeOf(value);
  if (!(value instanceof Map) && proto !== Object.prototype && proto !== null) {
    // Dates, byte arrays and class instances have no single JSON form; the caller must choose one.
    throw new PortcullisError('ERR_INPUT_INVALID', 'only plain objects, Maps and arrays can be encoded as JSON');
  }
  const entries = value instanceof Map ? [...value.entries()] : Object.entries(value);
  for (const [k] of entries) {
    if (typeof k !== 'string') throw new PortcullisError('ERR_INPUT_INVALID', 'JSON object keys must be strings');
  }
  const sorted = (entries as [string, unknown][]).sort(([a], [b]) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  return `{${sorted.map(([k, v]) => `${encodeString(k)}:${encode(v, depth + 1)}`).join(',')}}`;
}

const HEX = '0123456789abcdef';

function encodeString(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x22) out += '\\"';
    else if (c === 0x5c) out += '\\\\';
    else if (c === 0x0a) out += '\\n';
    else if (c === 0x0d) out += '\\r';
    else if (c === 0x09) out += '\\t';
    else if (c === 0x08) out += '\\b';
    else if (c === 0x0c) out += '\\f';
    else if (c < 0x20 || c === 0x3c || c === 0x3e || c === 0x26 || c === 0x2028 || c === 0x2029) {
      out += `\\u${HEX[(c >> 12) & 15]}${HEX[(c >> 8) & 15]}${HEX[(c >> 4) & 15]}${HEX[c & 15]}`;
    } else if (c >= 0xd800 && c <= 0xdfff) {
      // Go replaces invalid UTF-16 (a lone surrogate cannot be UTF-8) with U+FFFD.
      const next = s.charCodeAt(i + 1);
      if (c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
        out += s[i] + s[i + 1];
        i++;
      } else out += '\ufffd';
    } else out += s[i];
  }
  return `${out}"`;
}
