import '../x509/reflect-polyfill.js';
import { AsnConvert } from '@peculiar/asn1-schema';
import { ContentInfo } from '@peculiar/asn1-cms';
import { TSTInfo } from '@peculiar/asn1-tsp';
import type { AlgorithmIdentifier, GeneralName } from '@peculiar/asn1-x509';
import { PortcullisError } from '../errors/index.js';
import { certificateFrom, type Certificate, type CertificateCache, formatName, parseName } from '../x509/index.js';
import type { DigestAlgorithm } from '../util/index.js';
import { bigintFromInteger } from './integer.js';
import { OID, digestForOid } from './oids.js';
import { RawSignedData, type RawSignerInfo } from './schemas.js';

/** RFC 3161 §2.4.2 MessageImprint: the hash of the timestamped bytes. */
export interface MessageImprint {
  readonly hashAlgorithm: DigestAlgorithm;
  readonly hashAlgorithmOid: string;
  readonly hashedMessage: Uint8Array;
}

/** RFC 3161 §2.4.2 Accuracy; absent parts are 0. */
export interface Accuracy {
  readonly seconds: number;
  readonly millis: number;
  readonly micros: number;
}

/** RFC 3161 §2.4.2 TSTInfo, decoded. */
export interface TstInfo {
  readonly version: number;
  readonly policy: string;
  readonly messageImprint: MessageImprint;
  readonly serialNumber: bigint;
  readonly genTime: Date;
  readonly accuracy: Accuracy | undefined;
  readonly ordering: boolean;
  readonly nonce: bigint | undefined;
  /** The TSA name as RFC 4514 text when it is a directoryName, else a short description. */
  readonly tsa: string | undefined;
}

export interface SignedAttribute {
  readonly type: string;
  /** DER of each AttributeValue. */
  readonly values: readonly Uint8Array[];
}

export type SignerIdentifier =
  | { readonly kind: 'issuerAndSerialNumber'; readonly issuerDer: Uint8Array; readonly serialNumber: Uint8Array }
  | { readonly kind: 'subjectKeyIdentifier'; readonly keyIdentifier: Uint8Array };

/** One CMS SignerInfo (RFC 5652 §5.3) with what verification needs. */
export interface TimestampSignerInfo {
  readonly version: number;
  readonly sid: SignerIdentifier;
  readonly digestAlgorithmOid: string;
  readonly signedAttributes: readonly SignedAttribute[] | undefined;
  /** DER of the signed attributes with the SET OF tag (RFC 5652 §5.4): what the signature covers. */
  readonly signedAttributesDer: Uint8Array | undefined;
  readonly signatureAlgorithmOid: string;
  /** DER of the signature algorithm parameters (RSASSA-PSS params), if any. */
  readonly signatureAlgorithmParameters: Uint8Array | undefined;
  readonly signature: Uint8Array;
}

/** A parsed RFC 3161 TimeStampToken (a CMS SignedData over a TSTInfo). */
export interface TimestampToken {
  readonly der: Uint8Array;
  /** SignedData version. */
  readonly version: number;
  readonly digestAlgorithmOids: readonly string[];
  /** Always id-ct-TSTInfo once parsed. */
  readonly contentType: string;
  /** The eContent octets (the DER TSTInfo): what the message-digest attribute covers. */
  readonly eContent: Uint8Array;
  readonly info: TstInfo;
  /** Certificates embedded in the SignedData, in token order. */
  readonly certificates: readonly Certificate[];
  readonly signerInfos: readonly TimestampSignerInfo[];
}

function invalid(message: string, cause?: unknown): PortcullisError {
  return new PortcullisError('ERR_TIMESTAMP_INVALID', message, cause === undefined ? {} : { cause });
}

/**
 * Checks the bytes are exactly one definite-length DER element: Go's encoding/asn1 (which notation
 * uses) refuses trailing data and BER indefinite lengths, and so does Portcullis.
 */
function assertSingleElement(bytes: Uint8Array, what: string): void {
  if (bytes.length < 2) throw invalid(`${what} is truncated`);
  const first = bytes[1] as number;
  let length = first;
  let header = 2;
  if (first === 0x80) throw invalid(`${what} uses a BER indefinite length`);
  if (first & 0x80) {
    const n = first & 0x7f;
    if (n > 4 || bytes.length < 2 + n) throw invalid(`${what} has an invalid length`);
    length = 0;
    for (let i = 0; i < n; i++) length = length * 256 + (bytes[2 + i] as number);
    header += n;
  }
  if (header + length !== bytes.length) {
    throw invalid(`${what} is ${bytes.length} bytes but its DER length says ${header + length}`);
  }
}

const view = (buffer: ArrayBuffer): Uint8Array => new Uint8Array(buffer);

function parametersOf(alg: AlgorithmIdentifier): Uint8Array | undefined {
  const p = alg.parameters;
  return p === undefined || p === null ? undefined : new Uint8Array(p);
}

function describeGeneralName(name: GeneralName): string {
  if (name.directoryName !== undefined) {
    return formatName(parseName(new Uint8Array(AsnConvert.serialize(name.directoryName))));
  }
  return name.dNSName ?? name.uniformResourceIdentifier ?? name.rfc822Name ?? '(non-directory name)';
}

function parseTstInfo(eContent: Uint8Array): TstInfo {
  assertSingleElement(eContent, 'TSTInfo');
  let tst: TSTInfo;
  try {
    tst = AsnConvert.parse(eContent, TSTInfo);
  } catch (cause) {
    // E8: a genTime encoded as UTCTime (not GeneralizedTime) lands here.
    throw invalid(`cannot decode TSTInfo from the timestamp token: ${(cause as Error).message}`, cause);
  }
  const version = Number(tst.version);
  // RFC 3161 §2.4.2: version v1(1); E9.
  if (version !== 1) throw invalid(`timestamp token info version must be 1, but got ${String(tst.version)}`);
  const hashAlgorithmOid = tst.messageImprint.hashAlgorithm.algorithm;
  const hashAlgorithm = digestForOid(hashAlgorithmOid);
  // Only SHA-2 imprints are accepted (E10: SHA-1 / sha1WithRSA imprints are refused).
  if (hashAlgorithm === undefined)
    throw invalid(`unrecognized hash algorithm in the message imprint: ${hashAlgorithmOid}`);
  const hashedMessage = view(tst.messageImprint.hashedMessage.buffer);
  if (hashedMessage.length !== { sha256: 32, sha384: 48, sha512: 64 }[hashAlgorithm]) {
    throw invalid(`message imprint length ${hashedMessage.length} does not fit ${hashAlgorithm}`);
  }
  const accuracy: Accuracy | undefined =
    tst.accuracy === undefined
      ? undefined
      : {
          seconds: Number(tst.accuracy.seconds ?? 0),
          millis: Number(tst.accuracy.millis ?? 0),
          micros: Number(tst.accuracy.micros ?? 0),
        };
  if (accuracy !== undefined) {
    // RFC 3161 §2.4.2: millis and micros are INTEGER (1..999).
    const bad = (n: number, max: number): boolean => !Number.isSafeInteger(n) || n < 0 || n > max;
    if (bad(accuracy.seconds, 86_400 * 365) || bad(accuracy.millis, 999) || bad(accuracy.micros, 999)) {
      throw invalid('timestamp accuracy is out of range');
    }
  }
  if (Number.isNaN(tst.genTime.getTime())) throw invalid('timestamp genTime is not a valid time');
  return {
    version,
    policy: tst.policy,
    messageImprint: { hashAlgorithm, hashAlgorithmOid, hashedMessage },
    serialNumber: bigintFromInteger(view(tst.serialNumber)),
    genTime: tst.genTime,
    accuracy,
    ordering: tst.ordering,
    nonce: tst.nonce === undefined ? undefined : bigintFromInteger(view(tst.nonce)),
    tsa: tst.tsa === undefined ? undefined : describeGeneralName(tst.tsa),
  };
}

function parseSignerInfo(si: RawSignerInfo): TimestampSignerInfo {
  let sid: SignerIdentifier;
  if (si.sid.issuerAndSerialNumber !== undefined) {
    sid = {
      kind: 'issuerAndSerialNumber',
      issuerDer: new Uint8Array(AsnConvert.serialize(si.sid.issuerAndSerialNumber.issuer)),
      serialNumber: view(si.sid.issuerAndSerialNumber.serialNumber),
    };
  } else if (si.sid.subjectKeyIdentifier !== undefined) {
    sid = { kind: 'subjectKeyIdentifier', keyIdentifier: view(si.sid.subjectKeyIdentifier.buffer) };
  } else {
    throw invalid('SignerInfo has no signer identifier');
  }
  let signedAttributesDer: Uint8Array | undefined;
  if (si.signedAttrsRaw !== undefined) {
    // RFC 5652 §5.4: the signature is over the DER of the SET OF attributes, i.e. the received
    // [0] IMPLICIT element with its tag replaced by the universal SET tag (0x31).
    signedAttributesDer = new Uint8Array(si.signedAttrsRaw);
    signedAttributesDer[0] = 0x31;
  }
  return {
    version: Number(si.version),
    sid,
    digestAlgorithmOid: si.digestAlgorithm.algorithm,
    signedAttributes: si.signedAttrs?.map((a) => ({ type: a.attrType, values: a.attrValues.map(view) })),
    signedAttributesDer,
    signatureAlgorithmOid: si.signatureAlgorithm.algorithm,
    signatureAlgorithmParameters: parametersOf(si.signatureAlgorithm),
    signature: view(si.signature.buffer),
  };
}

/**
 * Parses a DER RFC 3161 TimeStampToken: ContentInfo(id-signedData) → SignedData whose
 * encapsulated content is an id-ct-TSTInfo (RFC 3161 §2.4.2) → TSTInfo, embedded certificates
 * and SignerInfos. Structural checks only; cryptographic checks are verifyTimestamp's job.
 * Throws ERR_TIMESTAMP_INVALID on anything malformed.
 */
export function parseTimestampToken(der: Uint8Array, cache?: CertificateCache): TimestampToken {
  assertSingleElement(der, 'timestamp token');
  let signedData: RawSignedData;
  try {
    const contentInfo = AsnConvert.parse(der, ContentInfo);
    if (contentInfo.contentType !== OID.signedData) {
      throw invalid(
        `timestamp token content type is ${contentInfo.contentType}, expected id-signedData (${OID.signedData})`,
      );
    }
    signedData = AsnConvert.parse(contentInfo.content, RawSignedData);
  } catch (cause) {
    if (cause instanceof PortcullisError) throw cause;
    throw invalid(`timestamp token is not a CMS SignedData: ${(cause as Error).message}`, cause);
  }
  const contentType = signedData.encapContentInfo.eContentType;
  // E7 / B16-5.
  if (contentType !== OID.tstInfo) {
    throw invalid(`unexpected content type: ${contentType}. Expected to be id-ct-TSTInfo (${OID.tstInfo})`);
  }
  const octets = signedData.encapContentInfo.eContent?.single;
  if (octets === undefined) throw invalid('timestamp token has no encapsulated TSTInfo');
  const eContent = view(octets.buffer);
  const info = parseTstInfo(eContent);

  const certificates: Certificate[] = [];
  for (const raw of signedData.certificates ?? []) {
    const bytes = view(raw);
    // Only plain X.509 certificates (a SEQUENCE) are used; attribute and other certificate
    // choices (RFC 5652 §10.2.2) play no part in timestamp verification.
    if (bytes[0] !== 0x30) continue;
    try {
      certificates.push(certificateFrom(bytes, cache));
    } catch (cause) {
      throw invalid(`timestamp token embeds a certificate that cannot be parsed: ${(cause as Error).message}`, cause);
    }
  }

  const signerInfos = Array.from(signedData.signerInfos, parseSignerInfo);
  // RFC 3161 §2.4.1: the token is signed by the TSA; a SignedData without signers is no token (E17).
  if (signerInfos.length === 0) throw invalid('timestamp token has no SignerInfo');

  return {
    der: new Uint8Array(der),
    version: Number(signedData.version),
    digestAlgorithmOids: Array.from(signedData.digestAlgorithms, (a) => a.algorithm),
    contentType,
    eContent,
    info,
    certificates,
    signerInfos,
  };
}
