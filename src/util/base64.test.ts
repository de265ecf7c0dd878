import { describe, expect, it } from 'vitest';
import { decodeBase64, decodeBase64Url, encodeBase64, encodeBase64Url } from './base64.js';
import { codeOf } from '../../test/helpers/errors.js';

describe('base64url without padding', () => {
  it('decodes the URL-safe alphabet', () => {
    expect(decodeBase64Url('-_8')).toEqual(new Uint8Array([0xfb, 0xff]));
    expect(decodeBase64Url('')).toEqual(new Uint8Array());
  });

  it.each([
    ['padding', 'QQ=='],
    ['a single trailing =', 'QUI='],
    ['the standard alphabet +', 'a+b'],
    ['the standard alphabet /', 'a/b'],
    ['whitespace', 'QU I'],
    ['a newline', 'QUI\n'],
    ['an impossible length', 'QUJDR'],
    ['non-zero trailing bits', 'QR'],
    ['non-ASCII', 'QQé'],
  ])('rejects %s', (_, text) => {
    expect(codeOf(() => decodeBase64Url(text))).toBe('ERR_INPUT_INVALID');
  });

  it("reports the caller's error code", () => {
    expect(codeOf(() => decodeBase64Url('QQ==', 'payload', 'ERR_ENVELOPE_MALFORMED'))).toBe('ERR_ENVELOPE_MALFORMED');
  });

  it('round-trips every length', () => {
    for (let n = 0; n < 40; n++) {
      const bytes = new Uint8Array(n).map((_, i) => (i * 37 + n) & 0xff);
      expect(decodeBase64Url(encodeBase64Url(bytes))).toEqual(bytes);
    }
  });
});

describe('standard base64', () => {
  it('decodes padded standard base64', () => {
    expect(decodeBase64('+/8=')).toEqual(new Uint8Array([0xfb, 0xff]));
  });

  it.each([
    ['missing padding', 'QQ'],
    ['extra padding', 'QQ==='],
    ['the URL alphabet', '-_8='],
    ['whitespace inside', 'QU I='],
    ['padding in the middle', 'QQ==QQ=='],
    ['non-zero trailing bits', 'QR=='],
  ])('rejects %s', (_, text) => {
    expect(codeOf(() => decodeBase64(text))).toBe('ERR_INPUT_INVALID');
  });

  it('round-trips every length', () => {
    for (let n = 0; n < 40; n++) {
      const bytes = new Uint8Array(n).map((_, i) => (i * 91 + n) & 0xff);
      expect(decodeBase64(encodeBase64(bytes))).toEqual(bytes);
    }
  });
});
