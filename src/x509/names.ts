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

// Go's pkix.Name keeps these attributes in fields and prints them in this fixed order (reversed:
// the last group prints first), whatever order the certificate encodes them in.
const GO_FIELD_ORDER = ['2.5.4.6', '2.5.4.8', '2.5.4.7', '2.5.4.9', '2.5.4.17', '2.5.4.10', '2.5.4.11'] as const;
const CN = '2.5.4.3';
const SERIAL = '2.5.4.5';

// Go's asn1.Marshal of a string: PrintableString when every character allows it, else UTF8String.
function goMarshalStringHex(value: string): string {
  const printable = /^[A-Za-z0-9 '()+,\-./:=?]*$/.test(value);
  const body = Buffer.from(value, printable ? 'latin1' : 'utf8');
  const length =
    body.length < 0x80
      ? [body.length]
      : (() => {
          const bytes: number[] = [];
          for (let n = body.length; n > 0; n = Math.floor(n / 256)) bytes.unshift(n % 256);
          return [0x80 | bytes.length, ...bytes];
        })();
  return Buffer.concat([Buffer.from([printable ? 0x13 : 0x0c, ...length]), body]).toString('hex');
}

/**
 * The string of a name exactly as Go's pkix.Name.String() prints it, which is what notation
 * shows and what trust policy identities are written against (e.g.
 * `CN=e2e,O=Notary,L=Seattle,ST=WA,C=US`). Go does not print the encoded order: it parses into
 * fields and prints SERIALNUMBER, CN, OU, O, POSTALCODE, STREET, L, ST, C (repeated values of
 * one type joined with `+`, only the last CN/SERIALNUMBER kept), then any other attributes as
 * `<oid>=#<hex DER>` in reverse encoded order.
 */
export function formatName(rdns: RdnSequence): string {
  const encoded = [...rdns].reverse().flat();
  const groups: NameAttribute[][] = [];
  // Attributes without a pkix.Name field come first in Go's sequence, so they print last.
  for (const a of encoded) {
    if (!Object.hasOwn(SHORT_NAMES, a.oid)) groups.push([a]);
  }
  for (const oid of GO_FIELD_ORDER) {
    const values = encoded.filter((a) => a.oid === oid);
    if (values.length > 0) groups.push(values);
  }
  for (const oid of [CN, SERIAL]) {
    const last = encoded.filter((a) => a.oid === oid).at(-1);
    if (last !== undefined && last.value !== '') groups.push([last]);
  }
  return groups
    .reverse()
    .map((rdn) =>
      rdn
        .map((a) =>
          Object.hasOwn(SHORT_NAMES, a.oid)
            ? `${a.type}=${escapeValue(a.value)}`
            : `${a.oid}=#${goMarshalStringHex(a.value)}`,
        )
        .join('+'),
    )
    .join(',');
}
