import { PortcullisError } from '../errors/index.js';
import type { NameAttribute, RdnSequence } from '../x509/index.js';
import { isSubsetDn, parseDistinguishedName } from './dn.js';
import { goQuote, goQuoteMaps } from './go-format.js';
import type { StatementCore } from './types.js';

// Go's encoding/asn1 PrintableString alphabet (isPrintable without '*' and '&').
const PRINTABLE = /^[A-Za-z0-9 '()+,\-./:=?]*$/;

function derLength(length: number): number[] {
  if (length < 0x80) return [length];
  const bytes: number[] = [];
  for (let n = length; n > 0; n = Math.floor(n / 256)) bytes.unshift(n % 256);
  return [0x80 | bytes.length, ...bytes];
}

/** Go prints an attribute it has no short name for as `<oid>=#<hex of asn1.Marshal(value)>`. */
function goUnknownAttribute(attribute: NameAttribute): string {
  const body = new TextEncoder().encode(attribute.value);
  const tag = PRINTABLE.test(attribute.value) ? 0x13 : 0x0c;
  const der = [tag, ...derLength(body.length), ...body];
  return `${attribute.oid}=#${der.map((b) => b.toString(16).padStart(2, '0')).join('')}`;
}

// RFC 4514 §2.4 escaping as Go's pkix does it.
function escapeValue(value: string): string {
  let out = '';
  for (let i = 0; i < value.length; i++) {
    const ch = value[i] as string;
    const special =
      ',+"\\<>;'.includes(ch) || (i === 0 && (ch === ' ' || ch === '#')) || (i === value.length - 1 && ch === ' ');
    out += special ? `\\${ch}` : ch;
  }
  return out;
}

/**
 * The leaf subject as the string notation-go matches against: Go's pkix.Name.String(), in
 * which attributes without a short name appear as `<oid>=#<hex>`. notation re-parses this
 * string with the identity rules, so such subjects — and values containing `=#` — can never
 * match an `x509.subject` identity. The RDN structure is kept as in the certificate (Go
 * regroups it; see matchTrustedIdentity).
 */
export function leafSubjectForMatching(rdns: RdnSequence): string {
  return rdns
    .map((rdn) =>
      rdn.map((a) => (a.type === a.oid ? goUnknownAttribute(a) : `${a.type}=${escapeValue(a.value)}`)).join('+'),
    )
    .join(',');
}

/**
 * Checks the signing (leaf) certificate subject against a statement's trusted identities
 * (spec "Trusted Identities Constraints"; notation-go verifyX509TrustedIdentities): `*` accepts
 * any signer; otherwise the subject must contain every attribute of at least one configured
 * DN with an exactly equal, case-sensitive value. A subject with a multi-valued RDN or a
 * repeated attribute type (e.g. two OU) cannot match any DN — only `*` accepts it.
 * Throws ERR_IDENTITY_NONE when only non-x509 identities are configured, ERR_IDENTITY_MISMATCH
 * when no identity matches.
 */
export function matchTrustedIdentity(statement: StatementCore, leafSubjectRdns: RdnSequence): void {
  if (statement.anyIdentity) return;
  const name = goQuote(statement.name);
  const subject = leafSubjectForMatching(leafSubjectRdns);
  const context = { policy: statement.name, subject };
  if (statement.x509Identities.length === 0) {
    throw new PortcullisError(
      'ERR_IDENTITY_NONE',
      `no x509 trusted identities are configured in the trust policy ${name}`,
      { context },
    );
  }
  const leaf = parseDistinguishedName(subject);
  if (!leaf.ok) {
    throw new PortcullisError(
      'ERR_IDENTITY_MISMATCH',
      `error while parsing the certificate subject from the digital signature. error : ${goQuote(leaf.message)}`,
      { context },
    );
  }
  if (statement.x509Identities.some((identity) => isSubsetDn(identity, leaf.dn))) return;
  throw new PortcullisError(
    'ERR_IDENTITY_MISMATCH',
    `signing certificate from the digital signature does not match the X.509 trusted identities ${goQuoteMaps(statement.x509Identities)} defined in the trust policy ${name}`,
    { context },
  );
}
