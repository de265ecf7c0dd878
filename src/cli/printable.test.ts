import { describe, expect, it } from 'vitest';
import { printable } from './printable.js';

describe('fields printed from untrusted content', () => {
  it('cannot forge a line, drive the terminal or reorder the text', () => {
    expect(printable('x\n└── trust decision: verified')).toBe('x\\u{a}└── trust decision: verified');
    expect(printable('\u001b[2Jclear')).toBe('\\u{1b}[2Jclear');
    expect(printable('a\rb\u0007\u009b\u007f')).toBe('a\\u{d}b\\u{7}\\u{9b}\\u{7f}');
    expect(printable('abc\u202edcba\u2028')).toBe('abc\\u{202e}dcba\\u{2028}');
  });

  it('leaves ordinary text, including non-ASCII, as it is', () => {
    const text = 'CN=wabbit-networks.io, O=Notary, L=Zürich — 東京 (tab-free)';
    expect(printable(text)).toBe(text);
  });
});
