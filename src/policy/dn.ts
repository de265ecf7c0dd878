import { goQuote } from './go-format.js';
import type { DistinguishedName } from './types.js';

/** One attribute of a parsed DN string. */
export interface DnAttribute {
  readonly type: string;
  readonly value: string;
}

export type DnResult =
  { readonly ok: true; readonly dn: DistinguishedName } | { readonly ok: false; readonly message: string };

// RFC 4514 §3: attributeType = descr / numericoid.
const ATTRIBUTE_TYPE = /^(?:[A-Za-z][A-Za-z0-9-]*|[0-9]+(?:\.[0-9]+)*)$/;
// RFC 4514 §2.4: characters that may follow a backslash as themselves.
const ESCAPABLE = ' "#+,;<=>\\';
const HEX_PAIR = /^[0-9A-Fa-f]{2}$/;
const MANDATORY = ['C', 'ST', 'O'] as const;

class DnSyntaxError extends Error {}

/**
 * Splits an RFC 4514 string into RDNs (as written, most specific first), following the rules
 * of go-ldap's ParseDN that notation-go uses: `,` (and `;`) separate RDNs, `+` joins the
 * attributes of a multi-valued RDN, `\` escapes a special character or a hex byte, unescaped
 * spaces around types and values are dropped. Hex-encoded `#…` values are refused (notation
 * refuses any DN containing `=#`). Stricter than go-ldap in that attribute types must follow
 * the RFC grammar and a DN may not end with a separator.
 */
export function parseRdns(text: string): DnAttribute[][] {
  const rdns: DnAttribute[][] = [];
  let rdn: DnAttribute[] = [];
  let type: string | undefined;
  let bytes: number[] = [];
  let trailingSpaces = 0;
  const encoder = new TextEncoder();
  const decoder = new TextDecoder('utf-8', { fatal: true });

  const take = (): string => {
    const kept = bytes.slice(0, bytes.length - trailingSpaces);
    bytes = [];
    trailingSpaces = 0;
    try {
      return decoder.decode(new Uint8Array(kept));
    } catch {
      throw new DnSyntaxError('escaped bytes are not valid UTF-8');
    }
  };
  const push = (): void => {
    if (type === undefined) throw new DnSyntaxError('incomplete type, value pair');
    if (!ATTRIBUTE_TYPE.test(type)) throw new DnSyntaxError(`invalid attribute type ${goQuote(type)}`);
    rdn.push({ type, value: take() });
    type = undefined;
  };

  for (let i = 0; i < text.length; i++) {
    const ch = text[i] as string;
    if (ch === '\\') {
      const next = text[i + 1];
      if (next === undefined) throw new DnSyntaxError('got corrupted escaped character');
      if (ESCAPABLE.includes(next)) {
        bytes.push(next.charCodeAt(0));
        i += 1;
      } else {
        const pair = text.slice(i + 1, i + 3);
        if (!HEX_PAIR.test(pair)) throw new DnSyntaxError(`invalid escape sequence ${goQuote(`\\${pair}`)}`);
        bytes.push(Number.parseInt(pair, 16));
        i += 2;
      }
      trailingSpaces = 0;
    } else if (ch === '=' && type === undefined) {
      type = take();
      if (text[i + 1] === '#') throw new DnSyntaxError('hex-encoded attribute values are not supported');
    } else if (ch === ',' || ch === ';' || ch === '+') {
      push();
      if (ch !== '+') {
        rdns.push(rdn);
        rdn = [];
      }
    } else if (ch === ' ' && bytes.length === 0) {
      // Unescaped leading spaces are not part of a type or value.
    } else {
      // Whole code points, so surrogate pairs encode as one UTF-8 sequence.
      const codePoint = text.codePointAt(i) as number;
      if (codePoint > 0xffff) i += 1;
      bytes.push(...encoder.encode(String.fromCodePoint(codePoint)));
      trailingSpaces = ch === ' ' ? trailingSpaces + 1 : 0;
    }
  }
  if (type === undefined && bytes.length > 0) throw new DnSyntaxError('DN ended with incomplete type, value pair');
  if (type !== undefined) push();
  if (rdn.length > 0) rdns.push(rdn);
  else if (rdns.length > 0) throw new DnSyntaxError('DN ends with an RDN separator');
  return rdns;
}

/**
 * Parses the value of an `x509.subject:` identity and applies the Notary rules of notation-go
 * internal/pkix ParseDistinguishedName (spec: "Trusted Identities Constraints"): no `=#`, valid
 * RFC 4514, single-valued RDNs, each attribute type once, and C, ST and O present. `S` is
 * accepted as an alias of `ST`. Messages are notation's.
 */
export function parseDistinguishedName(name: string): DnResult {
  const quoted = goQuote(name);
  if (name.includes('=#')) {
    return {
      ok: false,
      message: `unsupported distinguished name (DN) ${quoted}: notation does not support x509.subject identities containing "=#"`,
    };
  }
  let rdns: DnAttribute[][];
  try {
    rdns = parseRdns(name);
  } catch (error) {
    if (!(error instanceof DnSyntaxError)) throw error;
    return {
      ok: false,
      message: `parsing distinguished name (DN) ${quoted} failed with err: ${error.message}. A valid DN must contain 'C', 'ST', and 'O' RDN attributes at a minimum, and follow RFC 4514 standard`,
    };
  }
  const attributes = new Map<string, string>();
  for (const rdn of rdns) {
    if (rdn.length > 1) {
      return {
        ok: false,
        message: `distinguished name (DN) ${quoted} has multi-valued RDN attributes, remove multi-valued RDN attributes as they are not supported`,
      };
    }
    const { type: written, value } = rdn[0] as DnAttribute;
    const type = written === 'S' ? 'ST' : written;
    if (attributes.has(type)) {
      return {
        ok: false,
        message: `distinguished name (DN) ${quoted} has duplicate RDN attribute for ${goQuote(type)}, DN can only have unique RDN attributes`,
      };
    }
    // An empty value would match a leaf that lacks the attribute (notation compares with "");
    // for C/ST/O it reads as missing, anything else is refused as malformed.
    if (value === '') {
      if ((MANDATORY as readonly string[]).includes(type)) continue;
      return {
        ok: false,
        message: `parsing distinguished name (DN) ${quoted} failed with err: attribute ${goQuote(type)} has an empty value. A valid DN must contain 'C', 'ST', and 'O' RDN attributes at a minimum, and follow RFC 4514 standard`,
      };
    }
    attributes.set(type, value);
  }
  for (const field of MANDATORY) {
    if (!attributes.has(field)) {
      return {
        ok: false,
        message: `distinguished name (DN) ${quoted} has no mandatory RDN attribute for ${goQuote(field)}, it must contain 'C', 'ST', and 'O' RDN attributes at a minimum`,
      };
    }
  }
  return { ok: true, dn: Object.freeze(Object.fromEntries(attributes)) };
}

/** True when every attribute of `subset` is in `superset` with exactly the same value (notation IsSubsetDN). */
export function isSubsetDn(subset: DistinguishedName, superset: DistinguishedName): boolean {
  return Object.keys(subset).every((key) => Object.hasOwn(superset, key) && superset[key] === subset[key]);
}
