import { PortcullisError } from '../errors/index.js';
import type { ExtendedAttribute, SignedAttributes, SigningScheme } from './types.js';

/**
 * Format-independent validation of the signed attributes (signature-specification.md "Signed
 * Attributes"; notary-spec-digest §3). The JWS and COSE parsers decode their own encodings (JSON
 * strings vs CBOR tag-1 times, `crit` names vs labels) into a ProtectedHeaderFields and this
 * module applies the rules both formats share, so the two cannot drift apart.
 */

export const HEADER = {
  signingScheme: 'io.cncf.notary.signingScheme',
  signingTime: 'io.cncf.notary.signingTime',
  authenticSigningTime: 'io.cncf.notary.authenticSigningTime',
  expiry: 'io.cncf.notary.expiry',
  verificationPlugin: 'io.cncf.notary.verificationPlugin',
  verificationPluginMinVersion: 'io.cncf.notary.verificationPluginMinVersion',
  timestampSignature: 'io.cncf.notary.timestampSignature',
  signingAgent: 'io.cncf.notary.signingAgent',
} as const;

export const SIGNING_SCHEMES: readonly SigningScheme[] = ['notary.x509', 'notary.x509.signingAuthority'];

/** Headers with a Notary meaning; everything else in the protected header is an extended attribute. */
const NOTARY_HEADERS: ReadonlySet<string> = new Set([
  HEADER.signingScheme,
  HEADER.signingTime,
  HEADER.authenticSigningTime,
  HEADER.expiry,
  HEADER.verificationPlugin,
  HEADER.verificationPluginMinVersion,
]);

const TIME_HEADERS: ReadonlySet<string> = new Set([HEADER.signingTime, HEADER.authenticSigningTime, HEADER.expiry]);

export function isTimeHeader(name: string): boolean {
  return TIME_HEADERS.has(name);
}

/** What a format parser hands over: text-labelled headers in order, times already decoded. */
export interface ProtectedHeaderFields {
  /** The payload content type (`cty` / label 3), already checked to be a string. */
  readonly contentType: string;
  /** The `crit` entries, already checked to be a non-empty list of strings. */
  readonly crit: readonly string[];
  /**
   * Every text-labelled protected header except the registered ones (alg, crit, cty), in the
   * order they appear. Time headers carry a Date (the parser rejects undecodable times).
   */
  readonly headers: ReadonlyMap<string, unknown>;
  /** Registered header names the format forbids in `crit` (RFC 7515 §4.1.11). */
  readonly registered: ReadonlySet<string>;
}

function invalid(message: string): PortcullisError {
  return new PortcullisError('ERR_ENVELOPE_HEADER_INVALID', message);
}

/** Applies the shared signed-attribute rules; throws ERR_ENVELOPE_HEADER_INVALID on any violation. */
export function buildSignedAttributes(fields: ProtectedHeaderFields): SignedAttributes {
  const { headers } = fields;
  const crit = checkCritList(fields);

  const scheme = headers.get(HEADER.signingScheme);
  if (scheme === undefined) throw invalid(`missing "${HEADER.signingScheme}" header`);
  if (typeof scheme !== 'string' || !(SIGNING_SCHEMES as readonly string[]).includes(scheme)) {
    throw invalid(`unsupported signing scheme ${JSON.stringify(scheme)}`);
  }
  const signingScheme = scheme as SigningScheme;

  const signingTime = timeHeader(headers, HEADER.signingTime);
  const authenticSigningTime = timeHeader(headers, HEADER.authenticSigningTime);
  const expiry = timeHeader(headers, HEADER.expiry);

  // signing-scheme.md: notary.x509 carries the (unauthenticated) signing time; the signing
  // authority scheme carries the authentic signing time instead. Each must be absent in the other.
  let effectiveTime: Date;
  if (signingScheme === 'notary.x509') {
    if (authenticSigningTime !== undefined) {
      throw invalid(`"${HEADER.authenticSigningTime}" header must not be present for notary.x509 signing scheme`);
    }
    if (signingTime === undefined)
      throw invalid(`"${HEADER.signingTime}" header is required for notary.x509 (signing-time not present)`);
    effectiveTime = signingTime;
  } else {
    if (signingTime !== undefined) {
      throw invalid(
        `"${HEADER.signingTime}" header must not be present for notary.x509.signingAuthority signing scheme`,
      );
    }
    if (authenticSigningTime === undefined) {
      throw invalid(`"${HEADER.authenticSigningTime}" header is required for notary.x509.signingAuthority`);
    }
    effectiveTime = authenticSigningTime;
  }
  if (expiry !== undefined && expiry.getTime() <= effectiveTime.getTime()) {
    throw invalid('expiry must be after the signing time');
  }

  const verificationPlugin = stringHeader(headers, HEADER.verificationPlugin);
  const verificationPluginMinVersion = stringHeader(headers, HEADER.verificationPluginMinVersion);
  if (verificationPluginMinVersion !== undefined && verificationPlugin === undefined) {
    throw invalid(`"${HEADER.verificationPluginMinVersion}" header requires "${HEADER.verificationPlugin}"`);
  }

  // Spec table (notary-spec-digest §3): these must be marked critical whenever present.
  const mustBeCritical: string[] = [HEADER.signingScheme];
  if (signingScheme === 'notary.x509.signingAuthority') mustBeCritical.push(HEADER.authenticSigningTime);
  if (expiry !== undefined) mustBeCritical.push(HEADER.expiry);
  if (verificationPlugin !== undefined) mustBeCritical.push(HEADER.verificationPlugin);
  if (verificationPluginMinVersion !== undefined) mustBeCritical.push(HEADER.verificationPluginMinVersion);
  const missing = mustBeCritical.filter((name) => !crit.has(name));
  if (missing.length > 0) {
    throw invalid(`these required headers are not marked as critical: ${missing.join(', ')}`);
  }

  const extendedAttributes: ExtendedAttribute[] = [];
  for (const [key, value] of headers) {
    if (NOTARY_HEADERS.has(key)) continue;
    extendedAttributes.push({ key, value, critical: crit.has(key) });
  }

  return {
    contentType: fields.contentType,
    signingScheme,
    signingTime,
    authenticSigningTime,
    expiry,
    verificationPlugin,
    verificationPluginMinVersion,
    extendedAttributes,
  };
}

// RFC 7515 §4.1.11 / RFC 9052 §3.1: crit is non-empty, lists no registered header, and every
// entry must be present (notation: `"…" header is marked critical but not present`).
function checkCritList(fields: ProtectedHeaderFields): ReadonlySet<string> {
  const crit = new Set<string>();
  if (fields.crit.length === 0) throw invalid('missing "crit" header');
  for (const name of fields.crit) {
    if (crit.has(name)) throw invalid(`"crit" lists "${name}" twice`);
    if (fields.registered.has(name)) throw invalid(`"crit" must not list the registered header "${name}"`);
    if (!fields.headers.has(name)) throw invalid(`"${name}" header is marked critical but not present`);
    crit.add(name);
  }
  return crit;
}

function timeHeader(headers: ReadonlyMap<string, unknown>, name: string): Date | undefined {
  const value = headers.get(name);
  if (value === undefined) return undefined;
  if (!(value instanceof Date) || !Number.isFinite(value.getTime()))
    throw invalid(`"${name}" header is not a valid time`);
  return value;
}

function stringHeader(headers: ReadonlyMap<string, unknown>, name: string): string | undefined {
  const value = headers.get(name);
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.length === 0) throw invalid(`"${name}" header must be a non-empty string`);
  return value;
}
