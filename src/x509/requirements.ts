import { PortcullisError } from '../errors/index.js';
import { EKU, KEY_USAGE, type Certificate } from './certificate.js';
import { goQuote } from './go-quote.js';
import { insecureSignatureAlgorithm } from './issuance.js';
import { signatureAlgorithmForKey } from './key-spec.js';

/**
 * Notary certificate requirements (signature-specification.md § Certificate Requirements),
 * checked the way notation-core-go does (x509/codesigning_cert_validations.go,
 * timestamp_cert_validations.go, helper.go at the pinned commit), with its messages.
 * Every failure is ERR_CERT_REQUIREMENTS.
 */
export type CertificatePurpose = 'codeSigning' | 'timestamping';

function fail(message: string): never {
  throw new PortcullisError('ERR_CERT_REQUIREMENTS', message);
}

function who(cert: Certificate): string {
  return `certificate with subject ${goQuote(cert.subject)}`;
}

/**
 * §6: no certificate of either chain may be signed with SHA-1 (Go's CheckSignatureFrom refuses
 * SHA-1 and MD5 as insecure). RSASSA-PSS whose parameters name SHA-1 (the ASN.1 default) counts.
 */
export function validateCertificateSignatureAlgorithm(cert: Certificate): void {
  const name = insecureSignatureAlgorithm(cert);
  if (name !== undefined) {
    fail(
      `${who(cert)} is signed with the insecure algorithm ${name}; SHA-1 and MD5 certificate signatures are not accepted`,
    );
  }
}

/** §6: only RSA 2048/3072/4096 and EC P-256/P-384/P-521 keys. */
export function validateKeySize(cert: Certificate): void {
  try {
    signatureAlgorithmForKey(cert.key);
  } catch (cause) {
    throw new PortcullisError('ERR_CERT_REQUIREMENTS', `${who(cert)}: ${(cause as Error).message}`, { cause });
  }
}

// --- CA certificates -------------------------------------------------------------------------

/**
 * CA (intermediate or root) requirements. `expectedPathLength` is the number of intermediate CA
 * certificates between this one and the leaf (chain index − 1): an explicit pathLenConstraint,
 * including 0, must be at least that.
 */
export function validateCaCertificate(
  cert: Certificate,
  expectedPathLength: number,
  purpose: CertificatePurpose,
): void {
  const bc = cert.basicConstraints;
  if (bc === undefined || !bc.critical || !bc.ca) {
    fail(`${who(cert)}: ca field in basic constraints must be present, critical, and set to true`);
  }
  if (bc.pathLength !== undefined && bc.pathLength < expectedPathLength) {
    fail(
      `${who(cert)}: expected path length of ${expectedPathLength} but certificate has path length ${bc.pathLength} instead`,
    );
  }
  validateKeyUsagePresent(cert, purpose);
  if (((cert.keyUsage?.flags ?? 0) & KEY_USAGE.keyCertSign) === 0) {
    fail(`${who(cert)}: key usage must have the bit positions for key cert sign set`);
  }
  validateCaKeySize(cert);
}

/**
 * CA keys: the spec's floor (RSA ≥ 2048, EC ≥ 256) without the leaf's exact-size table, so a CA
 * with an RSA-8192 key that notation accepts (it checks only the leaf) still works here.
 */
export function validateCaKeySize(cert: Certificate): void {
  const { type, size } = cert.key;
  if ((type === 'RSA' && size >= 2048) || (type === 'EC' && size >= 256)) return;
  fail(
    `${who(cert)}: ${type === 'RSA' ? 'rsa' : type === 'EC' ? 'ecdsa' : cert.key.nodeType} key size ${size} bits is not supported for a CA certificate`,
  );
}

// --- leaf certificates -----------------------------------------------------------------------

/** Leaf (signing or time-stamping certificate) requirements, in notation-core-go's order. */
export function validateLeafCertificate(cert: Certificate, purpose: CertificatePurpose): void {
  if (cert.basicConstraints?.ca === true) {
    fail(`${who(cert)}: if the basic constraints extension is present, the ca field must be set to false`);
  }
  validateKeyUsagePresent(cert, purpose);
  validateLeafKeyUsage(cert);
  if (purpose === 'timestamping') validateTimestampingEku(cert);
  else validateCodeSigningEku(cert);
  validateKeySize(cert);
}

// Code signing: keyUsage present and critical; time stamping: presence suffices.
function validateKeyUsagePresent(cert: Certificate, purpose: CertificatePurpose): void {
  if (cert.keyUsage === undefined) fail(`${who(cert)}: key usage extension must be present`);
  if (purpose === 'codeSigning' && !cert.keyUsage.critical) {
    fail(`${who(cert)}: key usage extension must be marked critical`);
  }
}

const FORBIDDEN_LEAF_KEY_USAGES: readonly (readonly [number, string])[] = [
  [KEY_USAGE.keyEncipherment, 'KeyEncipherment'],
  [KEY_USAGE.dataEncipherment, 'DataEncipherment'],
  [KEY_USAGE.keyAgreement, 'KeyAgreement'],
  [KEY_USAGE.keyCertSign, 'CertSign'],
  [KEY_USAGE.cRLSign, 'CRLSign'],
  [KEY_USAGE.encipherOnly, 'EncipherOnly'],
  [KEY_USAGE.decipherOnly, 'DecipherOnly'],
];

// digitalSignature required; nonRepudiation (contentCommitment) tolerated; nothing else.
function validateLeafKeyUsage(cert: Certificate): void {
  const flags = cert.keyUsage?.flags ?? 0;
  const subject = goQuote(cert.subject);
  if ((flags & KEY_USAGE.digitalSignature) === 0) {
    fail(
      `the certificate with subject ${subject} is invalid. The key usage must have the bit positions for "Digital Signature" set`,
    );
  }
  const found = FORBIDDEN_LEAF_KEY_USAGES.filter(([bit]) => (flags & bit) !== 0).map(([, name]) => `"${name}"`);
  if (found.length > 0) {
    fail(
      `the certificate with subject ${subject} is invalid. The key usage must be "Digital Signature" only, but found ${found.join(', ')}`,
    );
  }
}

// notation-core-go rejects these (OCSPSigning beyond the spec). anyExtendedKeyUsage is rejected
// as the spec says, although notation-go tolerates it: a leaf valid for any purpose is also a
// TLS or mail certificate (docs/compatibility.md). codeSigning itself is not required.
const FORBIDDEN_CODE_SIGNING_EKUS: readonly (readonly [string, string])[] = [
  [EKU.serverAuth, 'ServerAuth'],
  [EKU.clientAuth, 'ClientAuth'],
  [EKU.emailProtection, 'EmailProtection'],
  [EKU.timeStamping, 'Timestamping'],
  [EKU.ocspSigning, 'OCSPSigning'],
  [EKU.any, 'AnyExtendedKeyUsage'],
];

function validateCodeSigningEku(cert: Certificate): void {
  for (const oid of cert.extendedKeyUsage?.oids ?? []) {
    const forbidden = FORBIDDEN_CODE_SIGNING_EKUS.find(([bad]) => bad === oid);
    if (forbidden !== undefined) fail(`${who(cert)}: extended key usage must not contain ${forbidden[1]} eku`);
  }
}

// RFC 3161 §2.3: the TSA certificate has exactly one EKU, id-kp-timeStamping, marked critical.
function validateTimestampingEku(cert: Certificate): void {
  const eku = cert.extendedKeyUsage;
  const subject = goQuote(cert.subject);
  if (eku === undefined || eku.oids.length !== 1 || eku.oids[0] !== EKU.timeStamping) {
    fail(
      `timestamp signing certificate with subject ${subject} must have and only have Timestamping as extended key usage`,
    );
  }
  if (!eku.critical) {
    fail(
      `timestamp signing certificate with subject ${subject} must have extended key usage extension marked as critical`,
    );
  }
}
