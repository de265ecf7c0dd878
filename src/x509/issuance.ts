import { AsnConvert } from '@peculiar/asn1-schema';
import { Certificate as AsnCertificate } from '@peculiar/asn1-x509';
import type { KeyObject } from 'node:crypto';
import { bytesEqual, KEY_USAGE, verifiesWith, type Certificate } from './certificate.js';

/**
 * Issuance checks with the semantics of Go's crypto/x509, which notation-core-go builds its
 * chain rules on (`isIssuedBy` = CheckSignatureFrom + raw name equality). Each returns the
 * failure text Go would produce (so messages stay comparable with notation's), or undefined.
 */

/** The X.509 version (1, 2 or 3) from the TBSCertificate. */
export function certificateVersion(cert: Certificate): number {
  return AsnConvert.parse(cert.der, AsnCertificate).tbsCertificate.version + 1;
}

// Go's names for signature algorithms it refuses as insecure (crypto/x509 SignatureAlgorithm.String()).
const INSECURE_SIGNATURES: Readonly<Record<string, string>> = {
  '1.2.840.113549.1.1.2': 'MD2-RSA',
  '1.2.840.113549.1.1.4': 'MD5-RSA',
  '1.2.840.113549.1.1.5': 'SHA1-RSA',
  '1.3.14.3.2.29': 'SHA1-RSA',
  '1.2.840.10045.4.1': 'ECDSA-SHA1',
  '1.2.840.10040.4.3': 'DSA-SHA1',
};
const RSASSA_PSS = '1.2.840.113549.1.1.10';

/**
 * The name of the certificate's signature algorithm when it hashes with SHA-1 or MD5, else
 * undefined. RSASSA-PSS whose parameters name SHA-1 (or are absent: the ASN.1 default) counts.
 */
export function insecureSignatureAlgorithm(cert: Certificate): string | undefined {
  const name = INSECURE_SIGNATURES[cert.signatureAlgorithmOid];
  if (name !== undefined || cert.signatureAlgorithmOid !== RSASSA_PSS) return name;
  let hash: string | undefined;
  try {
    hash = (cert.peculiar.signatureAlgorithm as { hash?: { name?: string } }).hash?.name;
  } catch {
    hash = undefined;
  }
  return hash === undefined || hash.toUpperCase() === 'SHA-1' ? 'SHA1-RSAPSS' : undefined;
}

// Go's error text when a signature does not verify, by the verifying key's type.
function verificationFailure(key: KeyObject): string {
  const type = key.asymmetricKeyType;
  if (type === 'rsa' || type === 'rsa-pss') return 'crypto/rsa: verification error';
  if (type === 'ec') return 'x509: ECDSA verification failure';
  if (type === 'ed25519') return 'x509: Ed25519 verification failure';
  return 'x509: signature verification failure';
}

/** Go's Certificate.CheckSignature with the certificate's own key: no CA constraints apply. */
export function ownSignatureError(cert: Certificate): string | undefined {
  return verifiesWith(cert, cert.publicKey) ? undefined : verificationFailure(cert.publicKey);
}

/**
 * Go's Certificate.CheckSignatureFrom(parent): RFC 5280 §4.2.1.9 forbids using a key to verify
 * certificate signatures unless the parent is a CA (a v3 parent without basicConstraints is not),
 * and §4.2.1.3 unless keyUsage (when present) asserts keyCertSign.
 */
export function signatureFromError(cert: Certificate, parent: Certificate): string | undefined {
  const bc = parent.basicConstraints;
  const notCa = bc === undefined ? certificateVersion(parent) === 3 : !bc.ca;
  const ku = parent.keyUsage?.flags ?? 0;
  if (notCa || (ku !== 0 && (ku & KEY_USAGE.keyCertSign) === 0)) {
    return 'x509: invalid signature: parent certificate cannot sign this kind of certificate';
  }
  const insecure = insecureSignatureAlgorithm(cert);
  if (insecure !== undefined) return `x509: cannot verify signature: insecure algorithm ${insecure}`;
  return verifiesWith(cert, parent.publicKey) ? undefined : verificationFailure(parent.publicKey);
}

export interface IssuanceResult {
  /** The signature verified and the names chain byte-exactly. */
  readonly issued: boolean;
  /** Why the signature check failed, when it did. */
  readonly error?: string;
}

/** notation-core-go `isIssuedBy`: signature from the parent first, then raw issuer == raw subject. */
export function checkIssuedBy(cert: Certificate, parent: Certificate): IssuanceResult {
  const error = signatureFromError(cert, parent);
  if (error !== undefined) return { issued: false, error };
  return { issued: bytesEqual(cert.issuerDer, parent.subjectDer) };
}
