import { describe, expect, it } from 'vitest';
import { parseExpiryDuration, parseGoDuration } from './duration.js';

const S = 1000;
const M = 60 * S;
const H = 60 * M;
const D = 24 * H;

describe('parseExpiryDuration (--expiry)', () => {
  it.each([
    ['24h', 24 * H],
    ['72h', 72 * H],
    ['30m', 30 * M],
    ['3h20m', 3 * H + 20 * M],
    ['90s', 90 * S],
    ['1.5h', 90 * M],
    ['.5m', 30 * S],
    ['1.m', M],
    ['+2h', 2 * H],
    ['2d', 2 * D],
    ['1d12h', D + 12 * H],
    ['0.5d', 12 * H],
    ['1500ms', null],
    ['1000ms', S],
    ['2000000us', 2 * S],
    ['2000000µs', 2 * S],
    ['2000000μs', 2 * S],
    ['3000000000ns', 3 * S],
    ['1h0m0s', H],
    ['1h1h', 2 * H],
  ] as const)('%s', (text, ms) => {
    if (ms === null)
      expect(() => parseExpiryDuration(text)).toThrow('expiry duration supports minimum granularity of seconds');
    else expect(parseExpiryDuration(text)).toBe(ms);
  });

  it.each([
    ['', 'time: invalid duration ""'],
    ['h', 'time: invalid duration "h"'],
    ['.h', 'time: invalid duration ".h"'],
    ['-', 'time: invalid duration "-"'],
    ['10', 'time: missing unit in duration "10"'],
    ['1h30', 'time: missing unit in duration "1h30"'],
    ['3w', 'time: unknown unit "w" in duration "3w"'],
    ['1 h', 'time: unknown unit " h" in duration "1 h"'],
    [' 1h', 'time: invalid duration " 1h"'],
    ['1H', 'time: unknown unit "H" in duration "1H"'],
    ['1e3s', 'time: unknown unit "e" in duration "1e3s"'],
    ['99999999999999999999h', 'time: invalid duration "99999999999999999999h"'],
  ])('rejects %j', (text, message) => {
    expect(() => parseExpiryDuration(text)).toThrow(message);
    try {
      parseExpiryDuration(text);
    } catch (error) {
      expect((error as { code: string }).code).toBe('ERR_INPUT_INVALID');
    }
  });

  it('rejects negative and zero durations', () => {
    expect(() => parseExpiryDuration('-1h')).toThrow('expiry duration cannot be a negative value');
    expect(() => parseExpiryDuration('0')).toThrow('expiry duration must be positive');
    expect(() => parseExpiryDuration('0s')).toThrow('expiry duration must be positive');
    expect(() => parseExpiryDuration('0h0m')).toThrow('expiry duration must be positive');
  });

  it('rejects sub-second granularity, as notation-go does', () => {
    expect(() => parseExpiryDuration('1ms')).toThrow('expiry duration supports minimum granularity of seconds');
    expect(() => parseExpiryDuration('1.0001s')).toThrow('expiry duration supports minimum granularity of seconds');
  });
});

describe('parseGoDuration', () => {
  it('returns signed nanoseconds with Go semantics', () => {
    expect(parseGoDuration('0')).toBe(0n);
    expect(parseGoDuration('-0')).toBe(0n);
    expect(parseGoDuration('1ns')).toBe(1n);
    expect(parseGoDuration('-1.5h')).toBe(-5_400_000_000_000n);
    expect(parseGoDuration('2562047h47m16.854775807s')).toBe((1n << 63n) - 1n);
    expect(() => parseGoDuration('2562047h47m16.854775808s')).toThrow('invalid duration');
  });
});
