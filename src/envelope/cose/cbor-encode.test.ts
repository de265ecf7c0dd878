import { describe, expect, it } from 'vitest';
import { Tag, encodeCbor } from './cbor-encode.js';

const hex = (v: Parameters<typeof encodeCbor>[0]): string => Buffer.from(encodeCbor(v)).toString('hex');

describe('deterministic CBOR encoding', () => {
  it('encodes integers in their shortest form', () => {
    expect([0, 23, 24, 255, 256, 65536, -1, -24, -25, -37].map((n) => hex(n))).toEqual([
      '00',
      '17',
      '1818',
      '18ff',
      '190100',
      '1a00010000',
      '20',
      '37',
      '3818',
      '3824',
    ]);
    expect(hex(2 ** 40)).toBe('1b0000010000000000');
  });

  it('orders map keys canonically: shorter encodings first, then bytewise', () => {
    const map = new Map<number | string, number>([
      ['bb', 0],
      [33, 0],
      ['a', 0],
      [3, 0],
      [-1, 0],
      [1, 0],
    ]);
    expect(hex(map)).toBe('a6' + '0100' + '0300' + '2000' + '182100' + '616100' + '62626200');
  });

  it('encodes tags, byte strings, text, booleans, null and floats', () => {
    expect(hex(new Tag(1, 1661321924))).toBe('c11a6305c2c4');
    expect(hex([new Uint8Array([1, 2]), 'é', true, false, null, 1.5])).toBe(
      '86420102' + '62c3a9' + 'f5f4f6' + 'fb3ff8000000000000',
    );
  });

  it('refuses values CBOR maps cannot carry faithfully', () => {
    expect(() => encodeCbor(new Date(0) as never)).toThrow();
    expect(() => encodeCbor(Number.POSITIVE_INFINITY)).toThrow();
  });
});
