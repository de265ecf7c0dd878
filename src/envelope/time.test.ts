import { describe, expect, it } from 'vitest';
import { epochSeconds, formatRfc3339, parseRfc3339 } from './time.js';

describe('RFC 3339 times', () => {
  it.each([
    ['2023-06-27T13:30:33+08:00', '2023-06-27T05:30:33.000Z'],
    ['2024-04-04T15:03:06-07:00', '2024-04-04T22:03:06.000Z'],
    ['2025-01-21T09:17:46Z', '2025-01-21T09:17:46.000Z'],
    ['2024-02-29T23:59:59.123456789Z', '2024-02-29T23:59:59.123Z'],
    ['0099-01-01T00:00:00Z', '0099-01-01T00:00:00.000Z'],
  ])('parses %s', (text, iso) => {
    expect(parseRfc3339(text)?.toISOString()).toBe(iso);
  });

  it.each([
    '2023-02-29T00:00:00Z',
    '2024-13-01T00:00:00Z',
    '2024-01-01T00:00:00+24:00',
    '2024-01-01T00:00Z',
    ' 2024-01-01T00:00:00Z',
  ])('rejects %s', (text) => {
    expect(parseRfc3339(text)).toBeUndefined();
  });

  it('formats as Go marshals a UTC time.Time', () => {
    expect(formatRfc3339(new Date('2022-08-29T13:50:00Z'))).toBe('2022-08-29T13:50:00Z');
    expect(formatRfc3339(new Date('2022-08-29T13:50:00.120Z'))).toBe('2022-08-29T13:50:00.12Z');
  });

  it('truncates to whole epoch seconds for COSE', () => {
    expect(epochSeconds(new Date(1661321924999))).toBe(1661321924);
  });
});
