/**
 * Member-name equality as Go's encoding/json sees it. Go matches a JSON member name to a struct
 * field with bytes.EqualFold — simple Unicode case folding — so `Digest`, `DIGEST` and
 * `dige\u017ft` (a long s) all set the field `digest`, and the last one wins. `goFoldKey(a) ===
 * goFoldKey(b)` exactly when Go treats `a` and `b` as the same name.
 *
 * The key of a character is a member of its simple case-folding class, checked with the
 * regular-expression engine's own simple case folding (`/iu`, ECMAScript Canonicalize), so
 * dotted and dotless i, which have only full or Turkic foldings, stay apart as they do in Go.
 * Pure; non-ASCII names (rare in the documents read) take the slow path.
 */
export function goFoldKey(name: string): string {
  let ascii = true;
  for (let i = 0; i < name.length; i++) {
    if (name.charCodeAt(i) > 0x7f) {
      ascii = false;
      break;
    }
  }
  if (ascii) return name.toLowerCase();
  let out = '';
  for (const ch of name) out += foldChar(ch);
  return out;
}

function single(s: string): boolean {
  const cp = s.codePointAt(0);
  return cp !== undefined && s.length === (cp > 0xffff ? 2 : 1);
}

function foldChar(ch: string): string {
  const upper = ch.toUpperCase();
  const viaUpper = single(upper) ? upper.toLowerCase() : ch;
  const lower = ch.toLowerCase();
  for (const candidate of [viaUpper, lower]) {
    if (candidate !== ch && single(candidate) && sameFold(ch, candidate)) return candidate;
  }
  return ch;
}

function sameFold(a: string, b: string): boolean {
  const cp = a.codePointAt(0) as number;
  return new RegExp(`^\\u{${cp.toString(16)}}$`, 'iu').test(b);
}
