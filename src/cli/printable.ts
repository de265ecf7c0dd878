/**
 * Text that a signer, a registry or anyone who can edit a signature's unsigned header controls is
 * printed one field per line: control characters (a newline that would forge a line, ESC that
 * would drive the terminal, CR that would overwrite one), DEL, C1 controls, and the Unicode line
 * separators and bidirectional overrides that reorder what is shown, are written as \u{…} escapes.
 */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

export function printable(text: string): string {
  return text.replace(UNPRINTABLE, (c) => `\\u{${(c.codePointAt(0) ?? 0).toString(16)}}`);
}
