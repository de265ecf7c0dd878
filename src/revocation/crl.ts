import '../x509/reflect-polyfill.js';
import {
  AsnConvert,
  AsnIntegerArrayBufferConverter,
  AsnProp,
  AsnPropTypes,
  AsnType,
  AsnTypeTypes,
} from '@peculiar/asn1-schema';
import {
  CRLReason,
  CertificateList,
  FreshestCRL,
  InvalidityDate,
  IssuingDistributionPoint,
  Name,
  type AlgorithmIdentifier,
  type Extension,
} from '@peculiar/asn1-x509';
import { PortcullisError } from '../errors/index.js';
import { KEY_USAGE, bytesEqual, type Certificate } from '../x509/index.js';
import { DEFAULT_SKEW_MS, normalizeSerial, serialBytes } from './ocsp.js';
import { reasonName } from './reasons.js';
import { verifySignedData } from './signature.js';

/**
 * CRLs (RFC 5280 §5) for one certificate: parsing, validating against the issuer at a time, and
 * looking the certificate up, with delta CRLs applied. Pure: the checker fetches the bytes.
 */

const OID = {
  authorityKeyIdentifier: '2.5.29.35',
  issuerAltName: '2.5.29.18',
  crlNumber: '2.5.29.20',
  reasonCode: '2.5.29.21',
  holdInstructionCode: '2.5.29.23',
  invalidityDate: '2.5.29.24',
  deltaCrlIndicator: '2.5.29.27',
  issuingDistributionPoint: '2.5.29.28',
  certificateIssuer: '2.5.29.29',
  freshestCrl: '2.5.29.46',
  authorityInfoAccess: '1.3.6.1.5.5.7.1.1',
} as const;

/** CRL extensions this module processes; any other critical one makes the CRL unusable (§5.2). */
const PROCESSED_CRL_EXTENSIONS = new Set<string>([
  OID.authorityKeyIdentifier,
  OID.issuerAltName,
  OID.crlNumber,
  OID.deltaCrlIndicator,
  OID.issuingDistributionPoint,
  OID.freshestCrl,
  OID.authorityInfoAccess,
]);
/** Entry extensions processed; certificateIssuer (indirect CRLs) is not, so a critical one is refused. */
const PROCESSED_ENTRY_EXTENSIONS = new Set<string>([OID.reasonCode, OID.holdInstructionCode, OID.invalidityDate]);

/** INTEGER kept as bytes: CRL numbers may be up to 20 octets (§5.2.3), beyond a JS number. */
class BigInteger {
  value = new ArrayBuffer(0);
}
AsnProp({ type: AsnPropTypes.Integer, converter: AsnIntegerArrayBufferConverter })(BigInteger.prototype, 'value');
AsnType({ type: AsnTypeTypes.Choice })(BigInteger);

export interface CrlEntry {
  readonly revocationDate: Date;
  readonly reason?: string;
  readonly invalidityDate?: Date;
}

export interface ParsedCrl {
  readonly der: Uint8Array;
  readonly issuerDer: Uint8Array;
  readonly thisUpdate: Date;
  readonly nextUpdate?: Date;
  readonly crlNumber?: bigint;
  /** BaseCRLNumber of the delta CRL indicator: set only for delta CRLs. */
  readonly deltaBase?: bigint;
  /** Freshest CRL (delta CRL) locations, when the extension is present. */
  readonly freshest?: FreshestCrlPointer;
  readonly issuingDistributionPoint?: IssuingDistributionPoint;
  /** Critical CRL or entry extensions this module cannot process. */
  readonly unsupportedCritical: readonly string[];
  /** Revoked serial numbers (normalised lower-case hex) → entry. */
  readonly entries: ReadonlyMap<string, CrlEntry>;
  readonly tbs: Uint8Array;
  readonly innerSignatureAlgorithm: AlgorithmIdentifier;
  readonly signatureAlgorithm: AlgorithmIdentifier;
  readonly signature: Uint8Array;
}

export interface FreshestCrlPointer {
  /** Every URI of every distribution point, in order. */
  readonly urls: readonly string[];
  /** Set when the extension cannot be decoded. */
  readonly error?: string;
}

function malformed(message: string, cause?: unknown): PortcullisError {
  return new PortcullisError('ERR_REVOCATION_UNKNOWN', message, cause === undefined ? undefined : { cause });
}

function extValue(ext: Extension): ArrayBuffer {
  return ext.extnValue.buffer;
}

function bigintOf(bytes: ArrayBuffer): bigint {
  const hex = Buffer.from(bytes).toString('hex');
  return hex === '' ? 0n : BigInt(`0x${hex}`);
}

/** Decodes a Freshest CRL extension value (same syntax as CRL distribution points, §4.2.1.15). */
export function parseFreshestCrl(value: Uint8Array | ArrayBuffer): FreshestCrlPointer {
  try {
    const points = AsnConvert.parse(value, FreshestCRL);
    const urls: string[] = [];
    for (const dp of points) {
      for (const gn of dp.distributionPoint?.fullName ?? []) {
        if (gn.uniformResourceIdentifier !== undefined) urls.push(gn.uniformResourceIdentifier);
      }
    }
    return { urls };
  } catch (cause) {
    return { urls: [], error: `invalid Freshest CRL extension: ${(cause as Error).message}` };
  }
}

/** The certificate's Freshest CRL extension (delta CRL locations), or undefined when absent. */
export function freshestCrlOf(cert: Certificate): FreshestCrlPointer | undefined {
  const ext = cert.peculiar.extensions.find((e) => e.type === OID.freshestCrl);
  return ext === undefined ? undefined : parseFreshestCrl(ext.value);
}

/** Parses a DER CRL. Throws ERR_REVOCATION_UNKNOWN ("malformed CRL") on decoding errors. */
export function parseCrl(der: Uint8Array): ParsedCrl {
  let list: CertificateList;
  try {
    list = AsnConvert.parse(der, CertificateList);
  } catch (cause) {
    throw malformed(`malformed CRL: ${(cause as Error).message}`, cause);
  }
  try {
    const tbs = list.tbsCertList;
    const unsupportedCritical: string[] = [];
    let crlNumber: bigint | undefined;
    let deltaBase: bigint | undefined;
    let freshest: FreshestCrlPointer | undefined;
    let issuingDistributionPoint: IssuingDistributionPoint | undefined;
    for (const ext of tbs.crlExtensions ?? []) {
      switch (ext.extnID) {
        case OID.crlNumber:
          crlNumber = bigintOf(AsnConvert.parse(extValue(ext), BigInteger).value);
          break;
        case OID.deltaCrlIndicator:
          deltaBase = bigintOf(AsnConvert.parse(extValue(ext), BigInteger).value);
          break;
        case OID.freshestCrl:
          freshest = parseFreshestCrl(extValue(ext));
          break;
        case OID.issuingDistributionPoint:
          issuingDistributionPoint = AsnConvert.parse(extValue(ext), IssuingDistributionPoint);
          break;
        default:
          if (ext.critical && !PROCESSED_CRL_EXTENSIONS.has(ext.extnID)) unsupportedCritical.push(ext.extnID);
      }
    }
    const entries = new Map<string, CrlEntry>();
    for (const revoked of tbs.revokedCertificates ?? []) {
      let reason: string | undefined;
      let invalidityDate: Date | undefined;
      for (const ext of revoked.crlEntryExtensions ?? []) {
        if (ext.extnID === OID.reasonCode) reason = reasonName(AsnConvert.parse(extValue(ext), CRLReason).reason);
        else if (ext.extnID === OID.invalidityDate)
          invalidityDate = AsnConvert.parse(extValue(ext), InvalidityDate).value;
        else if (ext.critical && !PROCESSED_ENTRY_EXTENSIONS.has(ext.extnID))
          unsupportedCritical.push(`${ext.extnID} (entry)`);
      }
      entries.set(normalizeSerial(new Uint8Array(revoked.userCertificate)), {
        revocationDate: revoked.revocationDate.getTime(),
        ...(reason === undefined ? {} : { reason }),
        ...(invalidityDate === undefined ? {} : { invalidityDate }),
      });
    }
    const nextUpdate = tbs.nextUpdate?.getTime();
    return {
      der,
      issuerDer: new Uint8Array(AsnConvert.serialize(tbs.issuer)),
      thisUpdate: tbs.thisUpdate.getTime(),
      ...(nextUpdate === undefined ? {} : { nextUpdate }),
      ...(crlNumber === undefined ? {} : { crlNumber }),
      ...(deltaBase === undefined ? {} : { deltaBase }),
      ...(freshest === undefined ? {} : { freshest }),
      ...(issuingDistributionPoint === undefined ? {} : { issuingDistributionPoint }),
      unsupportedCritical,
      entries,
      tbs: new Uint8Array(list.tbsCertListRaw ?? AsnConvert.serialize(tbs)),
      innerSignatureAlgorithm: tbs.signature,
      signatureAlgorithm: list.signatureAlgorithm,
      signature: new Uint8Array(list.signature),
    };
  } catch (cause) {
    throw malformed(`malformed CRL: ${(cause as Error).message}`, cause);
  }
}

export type CrlValidation =
  { readonly ok: true } | { readonly ok: false; readonly reason: string; readonly expired?: boolean };

function canonicalName(der: Uint8Array): Uint8Array {
  return new Uint8Array(AsnConvert.serialize(AsnConvert.parse(der, Name)));
}

/**
 * A CRL may be used for certificates of `issuer` at `at` when: its issuer name is the issuer's
 * subject; the issuer may sign CRLs (keyUsage cRLSign when keyUsage is present); the signature
 * verifies with the issuer's key; it has a nextUpdate and `at` is before it (an expired CRL gives
 * no answer: unknown, never good); thisUpdate is not in the future (beyond the skew); and it
 * carries no critical extension that is not processed.
 */
export function validateCrl(crl: ParsedCrl, issuer: Certificate, at: Date, skewMs = DEFAULT_SKEW_MS): CrlValidation {
  if (
    !bytesEqual(crl.issuerDer, issuer.subjectDer) &&
    !bytesEqual(canonicalName(crl.issuerDer), canonicalName(issuer.subjectDer))
  ) {
    return { ok: false, reason: `CRL issuer does not match the certificate issuer "${issuer.subject}"` };
  }
  if (issuer.keyUsage !== undefined && (issuer.keyUsage.flags & KEY_USAGE.cRLSign) === 0) {
    return { ok: false, reason: `issuer "${issuer.subject}" may not sign CRLs (keyUsage lacks cRLSign)` };
  }
  if (crl.innerSignatureAlgorithm.algorithm !== crl.signatureAlgorithm.algorithm) {
    return { ok: false, reason: 'CRL signature algorithm differs from the one in tbsCertList' };
  }
  const signature = verifySignedData(crl.tbs, crl.signatureAlgorithm, crl.signature, issuer.publicKey);
  if (!signature.ok) return { ok: false, reason: `CRL is not signed by "${issuer.subject}": ${signature.reason}` };
  if (crl.nextUpdate === undefined) return { ok: false, reason: 'CRL has no nextUpdate' };
  if (crl.nextUpdate.getTime() <= at.getTime()) {
    return {
      ok: false,
      expired: true,
      reason: `expired CRL: nextUpdate ${crl.nextUpdate.toISOString()} is not after ${at.toISOString()}`,
    };
  }
  if (crl.thisUpdate.getTime() > at.getTime() + skewMs) {
    return {
      ok: false,
      reason: `CRL is not yet valid: thisUpdate ${crl.thisUpdate.toISOString()} is after ${at.toISOString()}`,
    };
  }
  if (crl.unsupportedCritical.length > 0) {
    return { ok: false, reason: `CRL has unsupported critical extension(s) ${crl.unsupportedCritical.join(', ')}` };
  }
  return { ok: true };
}

/** Checks that `delta` may be applied to `base` (§5.2.4): same issuer, base numbers in order. */
export function validateDelta(base: ParsedCrl, delta: ParsedCrl): CrlValidation {
  if (delta.deltaBase === undefined)
    return { ok: false, reason: 'the Freshest CRL location serves a CRL without a delta CRL indicator' };
  if (base.crlNumber === undefined)
    return { ok: false, reason: 'base CRL has no CRL number, so no delta CRL can be applied' };
  if (delta.crlNumber === undefined) return { ok: false, reason: 'delta CRL has no CRL number' };
  if (!bytesEqual(canonicalName(base.issuerDer), canonicalName(delta.issuerDer)))
    return { ok: false, reason: 'delta CRL issuer differs from the base CRL issuer' };
  if (base.crlNumber < delta.deltaBase) {
    return {
      ok: false,
      reason: `base CRL number ${base.crlNumber} is older than the delta CRL's base CRL number ${delta.deltaBase}`,
    };
  }
  return { ok: true };
}

export interface CrlLookup {
  readonly status: 'good' | 'revoked' | 'unknown';
  readonly detail: string;
  readonly revokedAt?: Date;
  readonly reason?: string;
  readonly invalidityDate?: Date;
}

/**
 * The status of `cert` in a validated complete CRL and, optionally, a validated delta CRL that
 * applies to it. A delta entry overrides the base (removeFromCRL in the delta un-revokes a
 * certificate on hold, §5.3.1); certificateHold counts as revoked while listed. A delta whose CRL
 * number is not newer than the base adds nothing and is ignored.
 */
export function lookupCertificate(cert: Certificate, base: ParsedCrl, delta?: ParsedCrl): CrlLookup {
  const idp = base.issuingDistributionPoint;
  const isCa = cert.basicConstraints?.ca === true;
  if (idp !== undefined) {
    if (idp.indirectCRL) return { status: 'unknown', detail: 'indirect CRLs are not supported' };
    if (idp.onlySomeReasons !== undefined)
      return {
        status: 'unknown',
        detail: 'CRL covers only some revocation reasons (partitioned CRLs are not supported)',
      };
    if (idp.onlyContainsAttributeCerts) return { status: 'unknown', detail: 'CRL covers only attribute certificates' };
    if (idp.onlyContainsUserCerts && isCa)
      return { status: 'unknown', detail: 'CRL covers only end-entity certificates, not this CA certificate' };
    if (idp.onlyContainsCACerts && !isCa)
      return { status: 'unknown', detail: 'CRL covers only CA certificates, not this end-entity certificate' };
  }
  const serial = normalizeSerial(serialBytes(cert));
  const useDelta =
    delta !== undefined &&
    base.crlNumber !== undefined &&
    delta.crlNumber !== undefined &&
    delta.crlNumber > base.crlNumber;
  const fromDelta = useDelta ? delta.entries.get(serial) : undefined;
  const entry = fromDelta ?? base.entries.get(serial);
  const source = fromDelta === undefined ? 'CRL' : 'delta CRL';
  if (entry === undefined || entry.reason === 'removeFromCRL') {
    return { status: 'good', detail: `not listed in the CRL${useDelta ? ' or its delta CRL' : ''}` };
  }
  return {
    status: 'revoked',
    detail: `revoked at ${entry.revocationDate.toISOString()}${entry.reason === undefined ? '' : `, reason ${entry.reason}`} (listed in the ${source})`,
    revokedAt: entry.revocationDate,
    ...(entry.reason === undefined ? {} : { reason: entry.reason }),
    ...(entry.invalidityDate === undefined ? {} : { invalidityDate: entry.invalidityDate }),
  };
}
