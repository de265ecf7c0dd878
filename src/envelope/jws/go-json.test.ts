import { describe, expect, it } from 'vitest';
import { goJsonStringify } from './go-json.js';

describe('Go-compatible JSON encoding', () => {
  it('sorts object keys by their bytes, upper case before lower case, at every depth', () => {
    expect(goJsonStringify({ b: 1, a: { d: 1, C: 2 }, B: [{ z: 0, y: 0 }] })).toBe(
      '{"B":[{"y":0,"z":0}],"a":{"C":2,"d":1},"b":1}',
    );
  });

  it('escapes HTML-sensitive characters and line separators as encoding/json does', () => {
    expect(goJsonStringify('<a&b>\u2028\u2029')).toBe('"\\u003ca\\u0026b\\u003e\\u2028\\u2029"');
  });

  it('uses short escapes for common control characters and \\u00XX for the rest', () => {
    expect(goJsonStringify('"\\\n\r\t\u0001')).toBe('"\\"\\\\\\n\\r\\t\\u0001"');
  });

  it('writes numbers as Go formats float64', () => {
    expect(goJsonStringify([1, 1.5, 1e21, 1e-7, 123456789012])).toBe('[1,1.5,1e+21,1e-7,123456789012]');
  });

  it('refuses values JSON cannot carry', () => {
    expect(() => goJsonStringify(Number.NaN)).toThrow();
    expect(() => goJsonStringify(undefined)).toThrow();
    expect(() => goJsonStringify(new Date(0))).toThrow();
    expect(() => goJsonStringify(new Uint8Array([1]))).toThrow();
    expect(() => goJsonStringify(new Set([1]))).toThrow();
  });
});
