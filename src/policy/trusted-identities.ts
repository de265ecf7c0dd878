import { isSubsetDn, parseDistinguishedName } from './dn.js';
import { goQuote } from './go-format.js';
import type { DistinguishedName } from './types.js';

export interface ParsedIdentities {
  readonly anyIdentity: boolean;
  readonly x509Identities: readonly DistinguishedName[];
  readonly otherIdentities: readonly string[];
}

export type IdentitiesResult =
  { readonly ok: true; readonly value: ParsedIdentities } | { readonly ok: false; readonly message: string };

export const WILDCARD = '*';
export const X509_SUBJECT = 'x509.subject';

/**
 * Validates `trustedIdentities` (spec "Trusted Identities Constraints"; notation-go
 * validateTrustedIdentities): `*` only alone; no empty entries; every non-`*` entry is
 * `<prefix>:<value>`; `x509.subject` values are DNs with C, ST and O (see dn.ts); and no
 * x509 identity may be a subset of another, since the broader one would make the narrower
 * one meaningless. Other prefixes are kept for plugins and not evaluated here.
 */
export function parseTrustedIdentities(statement: string, values: readonly string[]): IdentitiesResult {
  const name = goQuote(statement);
  const fail = (message: string): IdentitiesResult => ({ ok: false, message });
  if (values.length > 1 && values.includes(WILDCARD)) {
    return fail(
      `trust policy statement ${name} uses a wildcard trusted identity '*', a wildcard identity cannot be used in conjunction with other values`,
    );
  }
  const parsed: { raw: string; dn: DistinguishedName }[] = [];
  const others: string[] = [];
  for (const identity of values) {
    if (identity === '') return fail(`trust policy statement ${name} has an empty trusted identity`);
    if (identity === WILDCARD) continue;
    const colon = identity.indexOf(':');
    if (colon < 0)
      return fail(`trust policy statement ${name} has trusted identity ${goQuote(identity)} missing separator`);
    const prefix = identity.slice(0, colon);
    const value = identity.slice(colon + 1);
    if (prefix !== X509_SUBJECT) {
      others.push(identity);
      continue;
    }
    if (value === '')
      return fail(`trust policy statement ${name} has trusted identity ${goQuote(identity)} without an identity value`);
    const dn = parseDistinguishedName(value);
    if (!dn.ok)
      return fail(
        `trust policy statement ${name} has trusted identity ${goQuote(identity)} with invalid identity value: ${dn.message}`,
      );
    parsed.push({ raw: identity, dn: dn.dn });
  }
  for (const [i, a] of parsed.entries()) {
    for (const [j, b] of parsed.entries()) {
      if (i !== j && isSubsetDn(a.dn, b.dn)) {
        return fail(
          `trust policy statement ${name} has overlapping x509 trustedIdentities, ${goQuote(a.raw)} overlaps with ${goQuote(b.raw)}`,
        );
      }
    }
  }
  return {
    ok: true,
    value: {
      anyIdentity: values.length === 1 && values[0] === WILDCARD,
      x509Identities: parsed.map((p) => p.dn),
      otherIdentities: others,
    },
  };
}
