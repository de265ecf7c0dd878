import { describe, expect, it } from 'vitest';
import { parseStrictJson } from './strict-json.js';
import { codeOf } from '../../test/helpers/errors.js';

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);

describe('strict JSON', () => {
  it('parses what JSON.parse parses for well-formed documents', () => {
    const text = '{"a":[1,-2.5e3,true,false,null,"x\\u00e9\\n"],"b":{"c":{}},"d":[]}';
    expect(parseStrictJson(text)).toEqual(JSON.parse(text));
    expect(parseStrictJson(bytes(' \t\n"s" '))).toBe('s');
  });

  it('rejects duplicate object keys at the top level', () => {
    expect(codeOf(() => parseStrictJson('{"alg":"PS256","alg":"none"}'))).toBe('ERR_INPUT_INVALID');
  });

  it('rejects duplicate object keys at any depth, including escaped spellings of the same key', () => {
    expect(codeOf(() => parseStrictJson('{"a":[{"b":1,"b":2}]}'))).toBe('ERR_INPUT_INVALID');
    expect(codeOf(() => parseStrictJson('{"alg":1,"\\u0061lg":2}'))).toBe('ERR_INPUT_INVALID');
  });

  // Go's encoding/json matches member names to fields with bytes.EqualFold (simple Unicode
  // folding) and the last match wins: names equal ignoring case would mean different things to
  // Portcullis and notation.
  it.each([
    ['ASCII case', '{"digest":"a","Digest":"b"}'],
    ['upper case first', '{"SIZE":1,"size":2}'],
    ['an escaped spelling', '{"digest":1,"\\u0044igest":2}'],
    ['the Kelvin sign, which folds to k', '{"kid":1,"\u212aid":2}'],
    ['the long s, which folds to s', '{"size":1,"\u017fize":2}'],
    ['Greek final sigma', '{"\u03c3":1,"\u03c2":2}'],
    ['a nested object', '{"a":[{"annotations":{},"Annotations":{}}]}'],
  ])('rejects member names equal ignoring case: %s', (_, text) => {
    expect(codeOf(() => parseStrictJson(text))).toBe('ERR_INPUT_INVALID');
  });

  it('names both spellings in the message', () => {
    expect(() => parseStrictJson('{"digest":"a","Digest":"b"}')).toThrow(/"digest" and "Digest" differ only in case/);
  });

  it('keeps names Go keeps apart: dotted and dotless i, and names in different objects', () => {
    expect(Object.keys(parseStrictJson('{"i":1,"\u0130":2,"\u0131":3}') as object)).toEqual(['i', '\u0130', '\u0131']);
    expect(parseStrictJson('{"a":{"x":1},"A2":{"X":2}}')).toEqual({ a: { x: 1 }, A2: { X: 2 } });
  });

  // Go reads an unpaired surrogate as U+FFFD; a pair is one character to both.
  it('rejects unpaired UTF-16 surrogates, escaped or raw, and keeps pairs', () => {
    expect(codeOf(() => parseStrictJson('"\\ud800"'))).toBe('ERR_INPUT_INVALID');
    expect(codeOf(() => parseStrictJson('"\\udc00x"'))).toBe('ERR_INPUT_INVALID');
    expect(codeOf(() => parseStrictJson('"\\ud800\\u0041"'))).toBe('ERR_INPUT_INVALID');
    expect(codeOf(() => parseStrictJson('{"\\ud800":1,"\\udbff":2}'))).toBe('ERR_INPUT_INVALID');
    expect(codeOf(() => parseStrictJson('"\ud800"'))).toBe('ERR_INPUT_INVALID');
    expect(parseStrictJson('"\\ud83d\\ude00"')).toBe('\u{1f600}');
    expect(parseStrictJson('"\u{1f600}"')).toBe('\u{1f600}');
  });

  it('keeps "__proto__" as an ordinary key', () => {
    const value = parseStrictJson('{"__proto__":{"polluted":true}}') as Record<string, unknown>;
    expect(Object.keys(value)).toEqual(['__proto__']);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });

  it('rejects invalid UTF-8 and a byte-order mark', () => {
    expect(codeOf(() => parseStrictJson(new Uint8Array([0x22, 0xc3, 0x28, 0x22])))).toBe('ERR_INPUT_INVALID');
    expect(codeOf(() => parseStrictJson(new Uint8Array([0xef, 0xbb, 0xbf, 0x31])))).toBe('ERR_INPUT_INVALID');
  });

  it('rejects a 10,000-deep nesting without exhausting the stack', () => {
    expect(codeOf(() => parseStrictJson('['.repeat(10_000) + ']'.repeat(10_000)))).toBe('ERR_INPUT_INVALID');
    expect(codeOf(() => parseStrictJson('{"a":'.repeat(10_000) + '1' + '}'.repeat(10_000)))).toBe('ERR_INPUT_INVALID');
  });

  it('honours maxDepth exactly', () => {
    expect(parseStrictJson('[[1]]', { maxDepth: 2 })).toEqual([[1]]);
    expect(codeOf(() => parseStrictJson('[[[1]]]', { maxDepth: 2 }))).toBe('ERR_INPUT_INVALID');
  });

  it('rejects input larger than maxBytes with ERR_SIZE_LIMIT', () => {
    expect(codeOf(() => parseStrictJson('"' + 'a'.repeat(100) + '"', { maxBytes: 50 }))).toBe('ERR_SIZE_LIMIT');
  });

  it.each([
    ['trailing data', '{} {}'],
    ['a trailing comma', '[1,]'],
    ['single quotes', "{'a':1}"],
    ['a leading zero', '01'],
    ['a bare minus', '-'],
    ['NaN', 'NaN'],
    ['a number overflowing to Infinity', '1e999'],
    ['a raw control character in a string', '"a\u0001"'],
    ['an invalid escape', '"\\x41"'],
    ['a short \\u escape', '"\\u12"'],
    ['an unterminated string', '"abc'],
    ['an unterminated object', '{"a":1'],
    ['empty input', ''],
    ['a comment', '/* */ 1'],
  ])('rejects %s', (_, text) => {
    expect(codeOf(() => parseStrictJson(text))).toBe('ERR_INPUT_INVALID');
  });

  it("reports the caller's error code", () => {
    expect(codeOf(() => parseStrictJson('{', { code: 'ERR_ENVELOPE_MALFORMED' }))).toBe('ERR_ENVELOPE_MALFORMED');
  });
});
