import { describe, expect, it } from 'vitest';
import { goFoldKey } from './go-fold.js';

/**
 * The classes below are those of Go's unicode.SimpleFold orbits (letter_test.go's
 * simpleFoldTests and CaseFolding.txt C+S): goFoldKey must be equal within each and differ
 * across them. The whole table was compared once with Go 1.19's foldName for every code point:
 * no pair Go folds together is kept apart here (only characters newer than Go's Unicode 13
 * tables fold here and not there, which rejects more).
 */
describe('goFoldKey (Go encoding/json member-name folding)', () => {
  it.each([
    ['K, k and the Kelvin sign', ['K', 'k', '\u212a']],
    ['S, s and the long s', ['S', 's', '\u017f']],
    ['\u00c5, \u00e5 and the Angstrom sign', ['\u00c5', '\u00e5', '\u212b']],
    ['the four thetas', ['\u0398', '\u03b8', '\u03d1', '\u03f4']],
    ['iota with ypogegrammeni and prosgegrammeni', ['\u0345', '\u0399', '\u03b9', '\u1fbe']],
    ['sigma and final sigma', ['\u03a3', '\u03c3', '\u03c2']],
    ['\u00df and capital sharp s', ['\u00df', '\u1e9e']],
    ['a Cherokee letter (folds to upper case)', ['\u13a0', '\uab70']],
    ['Greek with prosgegrammeni', ['\u1f80', '\u1f88']],
    ['a Deseret letter (outside the BMP)', ['\u{10400}', '\u{10428}']],
  ])('folds %s together', (_, chars) => {
    const keys = new Set(chars.map((c) => goFoldKey(`a${c}b`)));
    expect(keys.size).toBe(1);
  });

  it.each([
    ['dotted capital I and i', '\u0130', 'i'],
    ['dotless i and I', '\u0131', 'I'],
    ['dotted and dotless i', '\u0130', '\u0131'],
    ['\u00df and "ss" (a full folding only)', '\u00df', 'ss'],
    ['k and q', 'k', 'q'],
  ])('keeps %s apart', (_, a, b) => {
    expect(goFoldKey(a)).not.toBe(goFoldKey(b));
  });

  it('is the identity on ASCII names without letters', () => {
    expect(goFoldKey('0-9_.')).toBe('0-9_.');
  });
});
