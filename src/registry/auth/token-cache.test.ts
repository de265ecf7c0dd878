import { describe, expect, it } from 'vitest';
import { TokenCache } from './token-cache.js';

describe('TokenCache', () => {
  it('keeps a token until expires_in minus the margin', () => {
    let now = 1_000_000;
    const cache = new TokenCache(() => now);
    cache.set('k', 'tok', 300);
    expect(cache.get('k')).toBe('tok');
    now += 289_999; // margin is 10 s
    expect(cache.get('k')).toBe('tok');
    now += 1;
    expect(cache.get('k')).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('defaults to 60 s and uses at most half a short lifetime as margin', () => {
    let now = 0;
    const cache = new TokenCache(() => now);
    cache.set('default', 'a');
    cache.set('short', 'b', 4);
    now = 1_999;
    expect(cache.get('short')).toBe('b');
    now = 2_000;
    expect(cache.get('short')).toBeUndefined();
    now = 49_999;
    expect(cache.get('default')).toBe('a');
    now = 50_000;
    expect(cache.get('default')).toBeUndefined();
  });

  it('treats nonsense expires_in as the default and is bounded', () => {
    let now = 0;
    const cache = new TokenCache(() => now, 2);
    cache.set('a', '1', -5);
    cache.set('b', '2', Number.NaN);
    cache.set('c', '3', 1e9);
    expect(cache.size).toBe(2);
    expect(cache.get('a')).toBeUndefined();
    now = 49_000;
    expect(cache.get('b')).toBe('2');
    cache.delete('b');
    expect(cache.get('b')).toBeUndefined();
  });
});
