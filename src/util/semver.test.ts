import { describe, expect, it } from 'vitest';
import { compareSemVer, parseSemVer, type SemVer } from './semver.js';

const v = (text: string): SemVer => {
  const parsed = parseSemVer(text);
  if (parsed === undefined) throw new Error(`not a version: ${text}`);
  return parsed;
};

describe('SemVer 2.0.0', () => {
  it.each([
    '1.0.0',
    '0.0.9',
    '1.0.0-alpha.beta',
    '1.2.3-rc.1+build.5',
    '10.20.30',
    '1.0.0+meta',
    '99999999999999999999.0.0',
  ])('reads %s as a version', (text) => expect(parseSemVer(text)).toBeDefined());

  it.each([
    '1',
    '1.0',
    'v1.0.0',
    '01.0.0',
    '1.0.0-',
    '1.0.0-01',
    '1.0.0+',
    '1.0.0 ',
    '',
    '1-pre+meta',
    '1.0.0-alpha..1',
  ])('refuses %j', (text) => expect(parseSemVer(text)).toBeUndefined());

  it('orders by semver precedence (the example list of semver §11)', () => {
    const ordered = [
      '1.0.0-alpha',
      '1.0.0-alpha.1',
      '1.0.0-alpha.beta',
      '1.0.0-beta',
      '1.0.0-beta.2',
      '1.0.0-beta.11',
      '1.0.0-rc.1',
      '1.0.0',
      '1.0.1',
      '1.1.0',
      '2.0.0',
    ];
    for (let i = 0; i < ordered.length - 1; i++) {
      expect(compareSemVer(v(ordered[i] as string), v(ordered[i + 1] as string))).toBeLessThan(0);
      expect(compareSemVer(v(ordered[i + 1] as string), v(ordered[i] as string))).toBeGreaterThan(0);
    }
  });

  it('ignores build metadata and compares numbers of any size as numbers', () => {
    expect(compareSemVer(v('1.0.0+a'), v('1.0.0+b'))).toBe(0);
    expect(compareSemVer(v('1.10.0'), v('1.9.0'))).toBeGreaterThan(0);
    expect(compareSemVer(v('18446744073709551617.0.0'), v('18446744073709551616.0.0'))).toBeGreaterThan(0);
  });

  it("matches notation-go's minimum-version cases for a plugin at 1.0.0 (TestIsRequiredVerificationPluginVer)", () => {
    const plugin = v('1.0.0');
    for (const min of ['0.0.9', '1.0.0', '1.0.0-alpha'])
      expect(compareSemVer(plugin, v(min))).toBeGreaterThanOrEqual(0);
    for (const min of ['1.0.1', '1.1.0', '1.2.0', '1.1.0-alpha']) expect(compareSemVer(plugin, v(min))).toBeLessThan(0);
  });
});
