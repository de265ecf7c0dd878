import '../x509/reflect-polyfill.js';
import { createHash } from 'node:crypto';
import * as px from '@peculiar/x509';
import { AsnConvert } from '@peculiar/asn1-schema';
import { MessageDigest, SigningTime } from '@peculiar/asn1-cms';
import { PortcullisError } from '../errors/index.js';
import { bytesEqual, type Certificate } from '../x509/index.js';
import type { DigestAlgorithm } from '../util/index.js';
import { normalizedIntegerHex } from './integer.js';
import { OID, digestForOid } from './oids.js';
import { ObjectIdentifierValue, SigningCertificateV2, type EssCertIdV2 } from './schemas.js';
import type { TimestampSignerInfo, TimestampToken } from './token.js';
import { verifyCmsSignature } from './cms-signature.js';

/**
 * Verifies one SignerInfo of a timestamp token (RFC 5652 §5.6 and RFC 3161 §2.4.1) and returns
 * the TSA certificate that produced it. Throws ERR_TIMESTAMP_INVALID with the reason otherwise.
 */

function invalid(message: string, cause?: unknown): PortcullisError {
  return new PortcullisError('ERR_TIMESTAMP_INVALID', message, cause === undefined ? {} : { cause });
}

/**
 * The single value of a signed attribute, or undefined when absent. RFC 5652 §11 and RFC 5035
 * §3 forbid repeating these attributes or giving them several values.
 */
function singleValue(si: TimestampSignerInfo, type: string, name: string): Uint8Array | undefined {
  const found = (si.signedAttributes ?? []).filter((a) => a.type === type);
  if (found.length === 0) return undefined;
  if (found.length > 1) throw invalid(`signed attribute ${name} appears more than once`);
  const values = (found[0] as { values: readonly Uint8Array[] }).values;
  if (values.length !== 1) throw invalid(`signed attribute ${name} must have exactly one value`);
  return values[0] as Uint8Array;
}

function decode<T>(bytes: Uint8Array, type: new () => T, name: string): T {
  try {
    return AsnConvert.parse(bytes, type);
  } catch (cause) {
    throw invalid(`signed attribute ${name} cannot be decoded: ${(cause as Error).message}`, cause);
  }
}

function serialHex(cert: Certificate): string {
  return normalizedIntegerHex(new Uint8Array(Buffer.from(cert.serialNumber, 'hex')));
}

function matchesSid(cert: Certificate, si: TimestampSignerInfo): boolean {
  const sid = si.sid;
  if (sid.kind === 'issuerAndSerialNumber') {
    return bytesEqual(cert.issuerDer, sid.issuerDer) && serialHex(cert) === normalizedIntegerHex(sid.serialNumber);
  }
  const ski = cert.peculiar.getExtension(px.SubjectKeyIdentifierExtension);
  return ski !== null && ski.keyId.toLowerCase() === Buffer.from(sid.keyIdentifier).toString('hex');
}

/** RFC 5035 §4: certHash over the whole certificate; issuerSerial, when present, must match too. */
function matchesEssCertId(cert: Certificate, id: EssCertIdV2, hash: string): boolean {
  const certHash = createHash(hash).update(cert.der).digest();
  if (!bytesEqual(certHash, new Uint8Array(id.certHash.buffer))) return false;
  if (id.issuerSerial === undefined) return true;
  const serialOk = normalizedIntegerHex(new Uint8Array(id.issuerSerial.serialNumber)) === serialHex(cert);
  const issuerOk = id.issuerSerial.issuer.some(
    (gn) =>
      gn.directoryName !== undefined &&
      bytesEqual(new Uint8Array(AsnConvert.serialize(gn.directoryName)), cert.issuerDer),
  );
  return serialOk && issuerOk;
}

export interface IdentifiedSigner {
  readonly signer: Certificate;
  readonly digest: DigestAlgorithm;
  readonly signedAttributesDer: Uint8Array;
}

/**
 * Every SignerInfo check except the signature itself: version and identifier, SHA-2 digest,
 * the required signed attributes, and the TSA certificate named by signing-certificate-v2.
 */
export function identifySigner(token: TimestampToken, si: TimestampSignerInfo): IdentifiedSigner {
  // RFC 5652 §5.3: version 1 goes with issuerAndSerialNumber, version 3 with subjectKeyIdentifier (E18).
  const expectedVersion = si.sid.kind === 'issuerAndSerialNumber' ? 1 : 3;
  if (si.version !== expectedVersion) {
    throw invalid(`SignerInfo version ${si.version} does not fit its ${si.sid.kind} signer identifier`);
  }
  const digest = digestForOid(si.digestAlgorithmOid);
  // E19: SHA-1 (and anything but SHA-2) is refused.
  if (digest === undefined) throw invalid(`unsupported SignerInfo digest algorithm ${si.digestAlgorithmOid}`);

  // RFC 3161 §2.4.1 needs signed attributes (the ESS signing certificate lives there); E20, E25.
  if (si.signedAttributes === undefined || si.signedAttributesDer === undefined || si.signedAttributes.length === 0) {
    throw invalid('timestamp SignerInfo has no signed attributes');
  }

  // RFC 5652 §11.1: content-type must equal the eContentType (E22).
  const contentType = singleValue(si, OID.contentType, 'content-type');
  if (contentType === undefined) throw invalid('signed attribute content-type is missing');
  const contentTypeOid = decode(contentType, ObjectIdentifierValue, 'content-type').value;
  if (contentTypeOid !== OID.tstInfo) {
    throw invalid(`signed attribute content-type is ${contentTypeOid}, expected id-ct-TSTInfo (${OID.tstInfo})`);
  }

  // RFC 5652 §11.2: message-digest must equal the digest of the eContent octets (E23).
  const messageDigest = singleValue(si, OID.messageDigest, 'message-digest');
  if (messageDigest === undefined) throw invalid('signed attribute message-digest is missing');
  const declared = new Uint8Array(decode(messageDigest, MessageDigest, 'message-digest').buffer);
  const actual = createHash(digest).update(token.eContent).digest();
  if (!bytesEqual(declared, actual)) throw invalid('signed attribute message-digest does not match the TSTInfo');

  // RFC 3161 §2.4.1 + RFC 5035: signing-certificate-v2 names the TSA certificate (E11, E13, E14).
  const essValue = singleValue(si, OID.signingCertificateV2, 'signing-certificate-v2');
  if (essValue === undefined) throw invalid('signed attribute signing-certificate-v2 (ESSCertIDv2) is missing');
  const ess = decode(essValue, SigningCertificateV2, 'signing-certificate-v2');
  // RFC 5035 §3: the first ESSCertIDv2 identifies the signing certificate.
  const first = ess.certs[0];
  if (first === undefined) throw invalid('signing-certificate-v2 does not contain any certificate');
  const essHashOid = first.hashAlgorithm?.algorithm;
  const essHash = essHashOid === undefined ? 'sha256' : digestForOid(essHashOid);
  if (essHash === undefined) {
    throw invalid(`unsupported certificate hash algorithm ${String(essHashOid)} in signing-certificate-v2`);
  }

  const candidates = token.certificates.filter((c) => matchesSid(c, si));
  // E5 / B16-7.
  if (candidates.length === 0) throw invalid('signing certificate not found in the timestamp token');
  const signer = candidates.find((c) => matchesEssCertId(c, first, essHash));
  if (signer === undefined) {
    throw invalid('the signer certificate does not match the signing-certificate-v2 attribute');
  }

  // RFC 5652 §11.3: an optional signing-time must fall inside the signer's validity (E24).
  const signingTime = singleValue(si, OID.signingTime, 'signing-time');
  if (signingTime !== undefined) {
    const at = decode(signingTime, SigningTime, 'signing-time').getTime();
    if (at.getTime() < signer.notBefore.getTime() || at.getTime() > signer.notAfter.getTime()) {
      throw invalid(
        `signing-time ${at.toISOString()} is outside the validity of the TSA certificate "${signer.subject}"`,
      );
    }
  }

  return { signer, digest, signedAttributesDer: si.signedAttributesDer };
}

/** Verifies one SignerInfo completely and returns the TSA certificate that signed it. */
export function verifySignerInfo(token: TimestampToken, si: TimestampSignerInfo): Certificate {
  const { signer, digest, signedAttributesDer } = identifySigner(token, si);
  // RFC 5652 §5.4: the signature covers DER(SET OF signed attributes).
  const ok = verifyCmsSignature({
    signatureAlgorithmOid: si.signatureAlgorithmOid,
    signatureAlgorithmParameters: si.signatureAlgorithmParameters,
    digestAlgorithm: digest,
    data: signedAttributesDer,
    signature: si.signature,
    key: signer.publicKey,
  });
  // E6.
  if (!ok) throw invalid(`timestamp signature does not verify with the key of "${signer.subject}"`);
  return signer;
}
