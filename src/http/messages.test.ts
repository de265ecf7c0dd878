import { describe, expect, it } from 'vitest';
import { denialMessage, limitWarnings } from './messages.js';

describe('limitWarnings', () => {
  it('drops duplicates and control characters', () => {
    expect(limitWarnings(['a\u0007b', 'a\u0007b', 'tab\there'])).toEqual(['a b', 'tab here']);
  });

  it('keeps a trailing code when it cuts (the cut falls on the text before it)', () => {
    const [w] = limitWarnings([`${'x'.repeat(400)} [ERR_UNSUPPORTED_KIND]`]);
    expect(Array.from(w as string)).toHaveLength(256);
    expect(w).toMatch(/x… \[ERR_UNSUPPORTED_KIND\]$/);
  });

  it('cuts by runes, not UTF-16 units', () => {
    const [w] = limitWarnings(['🔐'.repeat(300)]);
    expect(Array.from(w as string)).toHaveLength(256);
    expect(w?.endsWith('…')).toBe(true);
  });
});

describe('denialMessage', () => {
  it('bounds a pathological message', () => {
    const text = denialMessage(Array.from({ length: 1000 }, (_, i) => `line ${i} ${'x'.repeat(100)}`));
    expect(text.length).toBeLessThanOrEqual(16 * 1024);
    expect(text).toMatch(/truncated; see the Portcullis log\)$/);
  });
});
