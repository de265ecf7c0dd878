import { describe, expect, it } from 'vitest';
import { budgetMs, parseGoDuration } from './deadline.js';

describe('parseGoDuration', () => {
  it.each([
    ['10s', 10_000],
    ['1.5s', 1_500],
    ['500ms', 500],
    ['1m30s', 90_000],
    ['2h', 7_200_000],
    ['1500000us', 1_500],
  ])('%s is %d ms', (text, ms) => {
    expect(parseGoDuration(text)).toBe(ms);
  });

  it.each(['', '10', 's', '-1s', '0s', '10 s', '1d', 'x'.repeat(100)])('refuses %j', (text) => {
    expect(parseGoDuration(text)).toBeUndefined();
  });
});

describe('budgetMs', () => {
  it('takes the smaller of ?timeout and the configured timeout, minus the margin', () => {
    expect(budgetMs(10_000, 1_000, '5s')).toBe(4_000);
    expect(budgetMs(10_000, 1_000, '30s')).toBe(9_000);
    expect(budgetMs(10_000, 1_000)).toBe(9_000);
    expect(budgetMs(10_000, 1_000, 'garbage')).toBe(9_000);
  });

  it('uses half of a timeout that is shorter than twice the margin', () => {
    expect(budgetMs(10_000, 1_000, '1s')).toBe(500);
    expect(budgetMs(1_500, 1_000)).toBe(750);
  });
});
