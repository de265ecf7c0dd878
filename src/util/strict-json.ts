import { type ErrorCode, PortcullisError } from '../errors/index.js';
import { goFoldKey } from './go-fold.js';

/**
 * A strict JSON (RFC 8259) parser for untrusted signature material. JSON.parse silently keeps
 * the last of duplicate keys, so `{"alg":"PS256","alg":"none"}` could mean different things to
 * different readers; here duplicates at any depth are an error (RFC 8259 §4 "names SHOULD be
 * unique", RFC 7515 §5.2 step 4: reject or use a parser that returns only the lexically last —
 * we reject). Go's encoding/json — notation's reader — also matches member names to fields
 * ignoring case (simple Unicode folding: `Digest`, `DIGEST`, `dige\u017ft`), so two names of one
 * object that are equal ignoring case are rejected as well, and so is an unpaired UTF-16
 * surrogate, which Go reads as U+FFFD. Invalid UTF-8, a byte-order mark, excessive nesting and
 * oversized input are errors too. Objects are returned with a null prototype so `__proto__` is
 * just a key.
 */
export interface StrictJsonOptions {
  /** Deepest allowed nesting of arrays and objects (the top-level container is depth 1). */
  readonly maxDepth?: number;
  /** Largest allowed input, in UTF-8 bytes. */
  readonly maxBytes?: number;
  /** Code of the error thrown for malformed input (size violations are ERR_SIZE_LIMIT). */
  readonly code?: ErrorCode;
  /** Names the input in messages. */
  readonly what?: string;
}

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

const DEFAULT_MAX_DEPTH = 64;
const DEFAULT_MAX_BYTES = 4 * 1024 * 1024;

export function parseStrictJson(input: string | Uint8Array, options: StrictJsonOptions = {}): JsonValue {
  const code = options.code ?? 'ERR_INPUT_INVALID';
  const what = options.what ?? 'JSON document';
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  const size = typeof input === 'string' ? Buffer.byteLength(input, 'utf8') : input.byteLength;
  if (size > maxBytes) {
    throw new PortcullisError('ERR_SIZE_LIMIT', `${what} is ${size} bytes, more than the limit of ${maxBytes}`);
  }
  let text: string;
  if (typeof input === 'string') {
    text = input;
  } else {
    try {
      // fatal: invalid UTF-8 is an error, not U+FFFD; ignoreBOM keeps a BOM so it is rejected below.
      text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(input);
    } catch (cause) {
      throw new PortcullisError(code, `${what} is not valid UTF-8`, { cause });
    }
  }
  return new Parser(text, options.maxDepth ?? DEFAULT_MAX_DEPTH, code, what).parseDocument();
}

const WS = new Set([0x20, 0x09, 0x0a, 0x0d]);
const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
const ESCAPES: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };

class Parser {
  #pos = 0;

  constructor(
    private readonly text: string,
    private readonly maxDepth: number,
    private readonly code: ErrorCode,
    private readonly what: string,
  ) {}

  parseDocument(): JsonValue {
    this.#skipWs();
    const value = this.#value(0);
    this.#skipWs();
    if (this.#pos !== this.text.length) this.#fail('unexpected data after the JSON value');
    return value;
  }

  #fail(message: string): never {
    throw new PortcullisError(this.code, `${this.what} is not valid JSON: ${message} at offset ${this.#pos}`);
  }

  #skipWs(): void {
    while (this.#pos < this.text.length && WS.has(this.text.charCodeAt(this.#pos))) this.#pos++;
  }

  #value(depth: number): JsonValue {
    const c = this.text[this.#pos];
    switch (c) {
      case '{':
        return this.#object(depth + 1);
      case '[':
        return this.#array(depth + 1);
      case '"':
        return this.#string();
      case 't':
        return this.#literal('true', true);
      case 'f':
        return this.#literal('false', false);
      case 'n':
        return this.#literal('null', null);
      case undefined:
        return this.#fail('unexpected end of input');
      default:
        return this.#number();
    }
  }

  #literal<T extends JsonValue>(word: string, value: T): T {
    if (!this.text.startsWith(word, this.#pos)) this.#fail('invalid literal');
    this.#pos += word.length;
    return value;
  }

  #number(): number {
    NUMBER.lastIndex = this.#pos;
    const match = NUMBER.exec(this.text);
    if (match === null) this.#fail('unexpected character');
    this.#pos += match[0].length;
    const value = Number(match[0]);
    if (!Number.isFinite(value)) this.#fail('number out of range');
    return value;
  }

  #string(): string {
    this.#pos++; // opening quote
    let out = '';
    let start = this.#pos;
    for (;;) {
      if (this.#pos >= this.text.length) this.#fail('unterminated string');
      const ch = this.text.charCodeAt(this.#pos);
      if (ch === 0x22) {
        out += this.text.slice(start, this.#pos);
        this.#pos++;
        return detach(out);
      }
      if (ch < 0x20) this.#fail('control character in string');
      if (ch !== 0x5c) {
        // Only a string input can hold a raw surrogate (decoded bytes are well-formed UTF-8).
        if (ch >= 0xd800 && ch <= 0xdfff) {
          if (!isPair(ch, this.text.charCodeAt(this.#pos + 1))) this.#fail('unpaired UTF-16 surrogate in string');
          this.#pos++;
        }
        this.#pos++;
        continue;
      }
      out += this.text.slice(start, this.#pos);
      const esc = this.text[this.#pos + 1];
      if (esc === 'u') {
        const unit = this.#hex4(this.#pos + 2);
        this.#pos += 6;
        if (unit >= 0xd800 && unit <= 0xdfff) {
          // Go turns an unpaired surrogate into U+FFFD: two readers would see different text.
          const low =
            this.text[this.#pos] === '\\' && this.text[this.#pos + 1] === 'u' ? this.#hex4(this.#pos + 2) : -1;
          if (!isPair(unit, low)) this.#fail('unpaired UTF-16 surrogate escape in string');
          out += String.fromCharCode(unit, low);
          this.#pos += 6;
        } else out += String.fromCharCode(unit);
      } else {
        const decoded = esc === undefined ? undefined : ESCAPES[esc];
        if (decoded === undefined) this.#fail('invalid escape');
        out += decoded;
        this.#pos += 2;
      }
      start = this.#pos;
    }
  }

  #hex4(at: number): number {
    const hex = this.text.slice(at, at + 4);
    if (!/^[0-9a-fA-F]{4}$/.test(hex)) this.#fail('invalid \\u escape');
    return parseInt(hex, 16);
  }

  #enter(depth: number): void {
    if (depth > this.maxDepth) this.#fail(`nesting deeper than ${this.maxDepth}`);
    this.#pos++;
    this.#skipWs();
  }

  #array(depth: number): JsonValue[] {
    this.#enter(depth);
    const out: JsonValue[] = [];
    if (this.text[this.#pos] === ']') {
      this.#pos++;
      return out;
    }
    for (;;) {
      out.push(this.#value(depth));
      this.#skipWs();
      const c = this.text[this.#pos++];
      if (c === ']') return out;
      if (c !== ',') this.#fail('expected , or ]');
      this.#skipWs();
    }
  }

  #object(depth: number): { [key: string]: JsonValue } {
    this.#enter(depth);
    const out: { [key: string]: JsonValue } = Object.create(null) as { [key: string]: JsonValue };
    let names: Map<string, string> | undefined;
    if (this.text[this.#pos] === '}') {
      this.#pos++;
      return out;
    }
    for (;;) {
      if (this.text[this.#pos] !== '"') this.#fail('expected a member name');
      const key = this.#string();
      if (Object.hasOwn(out, key)) this.#fail(`duplicate member name ${JSON.stringify(key)}`);
      const folded = goFoldKey(key);
      const same = (names ??= new Map()).get(folded);
      if (same !== undefined) {
        this.#fail(
          `member names ${JSON.stringify(same)} and ${JSON.stringify(key)} differ only in case (Go's encoding/json, which notation uses, reads them as one)`,
        );
      }
      names.set(folded, key);
      this.#skipWs();
      if (this.text[this.#pos] !== ':') this.#fail('expected :');
      this.#pos++;
      this.#skipWs();
      out[key] = this.#value(depth);
      this.#skipWs();
      const c = this.text[this.#pos++];
      if (c === '}') return out;
      if (c !== ',') this.#fail('expected , or }');
      this.#skipWs();
    }
  }
}

function isPair(high: number, low: number): boolean {
  return high >= 0xd800 && high <= 0xdbff && low >= 0xdc00 && low <= 0xdfff;
}

/** True for a JSON object (not null, not an array). */
export function isJsonObject(value: unknown): value is { [key: string]: JsonValue } {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array);
}

/**
 * A copy of `s` that does not keep the text it was cut from alive. V8 makes a slice of 13 or more
 * characters a view into its parent string, so every digest and media type parsed from a
 * manifest held the whole manifest text for as long as a cache held the parsed value (about 630
 * bytes per signature manifest, two texts per cached image). Flattening `' ' + s` copies the
 * characters; the slice of that copy holds only the copy.
 */
function detach(s: string): string {
  return s.length < 13 ? s : (' ' + s).slice(1);
}
