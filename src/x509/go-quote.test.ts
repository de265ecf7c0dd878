import { describe, expect, it } from 'vitest';
import { goQuote } from './go-quote.js';

describe('Go %q quoting', () => {
  it('doubles backslashes and escapes quotes, as notation prints escaped subjects', () => {
    expect(goQuote('CN=DigiCert Timestamp 2023,O=DigiCert\\, Inc.,C=US')).toBe(
      '"CN=DigiCert Timestamp 2023,O=DigiCert\\\\, Inc.,C=US"',
    );
    expect(goQuote('CN=a"b')).toBe('"CN=a\\"b"');
  });

  it('escapes control characters the way strconv.Quote does and keeps printable Unicode', () => {
    expect(goQuote('a\nb\tc\x01\x7f')).toBe('"a\\nb\\tc\\x01\\x7f"');
    expect(goQuote('CN=Zoë 東京')).toBe('"CN=Zoë 東京"');
  });
});
