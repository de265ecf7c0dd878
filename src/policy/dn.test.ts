import { describe, expect, it } from 'vitest';
import { isSubsetDn, parseDistinguishedName, parseRdns } from './dn.js';

function parsed(name: string) {
  const result = parseDistinguishedName(name);
  if (!result.ok) throw new Error(result.message);
  return result.dn;
}

function failure(name: string): string {
  const result = parseDistinguishedName(name);
  if (result.ok) throw new Error(`expected ${name} to be rejected`);
  return result.message;
}

describe('distinguished names (RFC 4514, notation pkix rules)', () => {
  it('parses a DN into one value per attribute type', () => {
    expect(parsed('CN=e2e,O=Notary,L=Seattle,ST=WA,C=US')).toEqual({
      CN: 'e2e',
      O: 'Notary',
      L: 'Seattle',
      ST: 'WA',
      C: 'US',
    });
  });

  it('drops unescaped spaces around types and values', () => {
    expect(parsed(' C = US ,  ST=WA, L=Seattle, O=wabbit-networks.io, OU=Security Tools ')).toEqual({
      C: 'US',
      ST: 'WA',
      L: 'Seattle',
      O: 'wabbit-networks.io',
      OU: 'Security Tools',
    });
  });

  it('unescapes special characters and hex pairs', () => {
    expect(parsed('C=US,ST=WA,O=Acme\\, Inc.,CN=\\#1 \\+ caf\\c3\\a9\\ ')).toEqual({
      C: 'US',
      ST: 'WA',
      O: 'Acme, Inc.',
      CN: '#1 + café ',
    });
  });

  it('accepts ; as an RDN separator like go-ldap', () => {
    expect(parsed('C=US;ST=WA;O=Acme')).toEqual({ C: 'US', ST: 'WA', O: 'Acme' });
  });

  it('keeps non-ASCII values as written', () => {
    expect(parsed('C=DE,ST=Bayern,O=Müller GmbH')).toEqual({ C: 'DE', ST: 'Bayern', O: 'Müller GmbH' });
  });

  it('normalises S to ST', () => {
    expect(parsed('C=US,S=WA,O=Acme')).toEqual({ C: 'US', ST: 'WA', O: 'Acme' });
  });

  it('treats S and ST together as a duplicate', () => {
    expect(failure('C=US,S=WA,ST=WA,O=Acme')).toContain('has duplicate RDN attribute for "ST"');
  });

  it('keeps attribute types case-sensitive, as notation does', () => {
    expect(failure('c=US,st=WA,o=Acme')).toContain('has no mandatory RDN attribute for "C"');
  });

  it.each([
    ['a value without a type', 'C=US,ST=WA,O=Acme,junk'],
    ['an RDN without a type', 'C=US,=x,ST=WA,O=Acme'],
    ['an invalid attribute type', 'C=US,S T=WA,O=Acme'],
    ['a dangling escape', 'C=US,ST=WA,O=Acme\\'],
    ['an invalid escape', 'C=US,ST=WA,O=Ac\\zzme'],
    ['escaped bytes that are not UTF-8', 'C=US,ST=WA,O=\\ff'],
    ['a trailing separator', 'C=US,ST=WA,O=Acme,'],
    ['an empty non-mandatory value', 'C=US,ST=WA,O=Acme,OU='],
  ])('rejects %s', (_, name) => {
    expect(failure(name)).toMatch(
      /^parsing distinguished name \(DN\) ".*" failed with err: .*\. A valid DN must contain 'C', 'ST', and 'O' RDN attributes at a minimum, and follow RFC 4514 standard$/,
    );
  });

  it('reads an empty mandatory value as missing', () => {
    expect(failure('C=,ST=WA,O=Acme')).toContain('has no mandatory RDN attribute for "C"');
  });

  it('rejects =# anywhere, before parsing', () => {
    expect(failure('C=US,ST=WA,O=#0403414243')).toBe(
      'unsupported distinguished name (DN) "C=US,ST=WA,O=#0403414243": notation does not support x509.subject identities containing "=#"',
    );
  });

  it('splits multi-valued RDNs', () => {
    expect(parseRdns('CN=a+OU=b,C=US')).toEqual([
      [
        { type: 'CN', value: 'a' },
        { type: 'OU', value: 'b' },
      ],
      [{ type: 'C', value: 'US' }],
    ]);
  });

  it('compares subsets by exact, case-sensitive values', () => {
    const leaf = { C: 'US', ST: 'WA', O: 'Acme', CN: 'build' };
    expect(isSubsetDn({ C: 'US', ST: 'WA', O: 'Acme' }, leaf)).toBe(true);
    expect(isSubsetDn({ C: 'US', ST: 'WA', O: 'acme' }, leaf)).toBe(false);
    expect(isSubsetDn({ C: 'US', ST: 'WA', O: 'Acme', OU: 'x' }, leaf)).toBe(false);
  });
});
