import { AsnConvert } from '@peculiar/asn1-schema';
import { Name as AsnName } from '@peculiar/asn1-x509';

/** One attribute of a relative distinguished name. */
export interface NameAttribute {
  /** Short name (CN, O, OU, L, ST, C, …) or the dotted OID when there is none. */
  readonly type: string;
  readonly oid: string;
  readonly value: string;
}

/** A distinguished name as a list of RDNs, most specific first (the order Go and RFC 4514 print). */
export type RdnSequence = readonly (readonly NameAttribute[])[];

// The short names Go's crypto/x509/pkix knows; notation prints subjects through it, and trust
// policy identities are written against that rendering.
const SHORT_NAMES: Record<string, string> = {
  '2.5.4.6': 'C',
  '2.5.4.10': 'O',
  '2.5.4.11': 'OU',
  '2.5.4.3': 'CN',
  '2.5.4.5': 'SERIALNUMBER',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
  '2.5.4.9': 'STREET',
  '2.5.4.17': 'POSTALCODE',
};

/** Parses a DER Name into RDNs, most specific first. */
export function parseName(der: ArrayBuffer | Uint8Array): RdnSequence {
  const name = AsnConvert.parse(der, AsnName);
  const rdns = name.map((rdn) =>
    rdn.map((attr): NameAttribute => {
      const oid = attr.type;
      return { type: SHORT_NAMES[oid] ?? oid, oid, value: attr.value.toString() };
    }),
  );
  return rdns.reverse();
}

// RFC 4514 §2.4 escaping, as Go's pkix.Name.String() does it.
function escapeValue(value: string): string {
  let out = '';
  for (let i = 0; i < value.length; i++) {
    const ch = value[i] as string;
    const special = ',+"\\<>;'.includes(ch);
    const leading = i === 0 && (ch === ' ' || ch === '#');
    const trailing = i === value.length - 1 && ch === ' ';
    out += special || leading || trailing ? `\\${ch}` : ch;
  }
  return out;
}

/** The RFC 4514 string of a name, as notation prints it (e.g. `CN=e2e,O=Notary,L=Seattle,ST=WA,C=US`). */
export function formatName(rdns: RdnSequence): string {
  return rdns.map((rdn) => rdn.map((a) => `${a.type}=${escapeValue(a.value)}`).join('+')).join(',');
}
